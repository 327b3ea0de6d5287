#!/usr/bin/env node
/* global __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script run by node directly */
/**
 * Keeps `npm ci` working with `@foundry-rs/anvil` (devDependency, test/support/anvil).
 *
 * `@foundry-rs/anvil` lists one optional dependency per platform (`@foundry-rs/anvil-linux-amd64`,
 * `-darwin-arm64`, ...). The registry this project installs from serves only `-linux-amd64`, so
 * `npm install` leaves the other four out of package-lock.json, and `npm ci` then refuses the lock
 * ("Missing: @foundry-rs/anvil-darwin-amd64@ from lock file"). This script adds the missing
 * platform packages to the lock as the optional, dev-only, os/cpu-restricted entries npm itself
 * writes for a platform package it can fetch: `npm ci` skips them on every other platform without
 * fetching anything, and fetches them by name and version on theirs.
 *
 * npm keeps such entries through later `npm install`s; run this again only after the lock was
 * regenerated from scratch or `@foundry-rs/anvil` changed version.
 *
 *   node scripts/lock-foundry-platforms.js           add the missing entries
 *   node scripts/lock-foundry-platforms.js --check   exit 1 if any is missing
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const LOCK = path.resolve(__dirname, '..', 'package-lock.json');
const WRAPPERS = ['@foundry-rs/anvil'];
const PLATFORMS = {
  'darwin-amd64': { os: 'darwin', cpu: 'x64' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64' },
  'linux-amd64': { os: 'linux', cpu: 'x64' },
  'linux-arm64': { os: 'linux', cpu: 'arm64' },
  'win32-amd64': { os: 'win32', cpu: 'x64' },
};

function main() {
  const lock = JSON.parse(fs.readFileSync(LOCK, 'utf8'));
  const missing = [];
  for (const wrapper of WRAPPERS) {
    const entry = lock.packages[`node_modules/${wrapper}`];
    if (!entry) continue;
    for (const [name, version] of Object.entries(entry.optionalDependencies || {})) {
      const key = `node_modules/${name}`;
      if (lock.packages[key]) continue;
      const platform = PLATFORMS[name.slice(`${wrapper}-`.length)];
      if (!platform) throw new Error(`unknown platform package ${name}`);
      missing.push(name);
      lock.packages[key] = {
        version,
        cpu: [platform.cpu],
        dev: true,
        license: entry.license,
        optional: true,
        os: [platform.os],
        engines: { node: '>=20' },
      };
    }
  }
  if (process.argv.includes('--check')) {
    if (missing.length > 0) {
      process.stderr.write(`package-lock.json lacks ${missing.join(', ')}: run node scripts/lock-foundry-platforms.js\n`);
      process.exit(1);
    }
    process.stdout.write('package-lock.json lists every @foundry-rs platform package\n');
    return;
  }
  if (missing.length === 0) {
    process.stdout.write('nothing to add\n');
    return;
  }
  // npm orders lock entries by path (the root "" first); keep that order so npm rewrites nothing.
  const [root, ...rest] = Object.entries(lock.packages);
  rest.sort(([a], [b]) => a.localeCompare(b, 'en'));
  lock.packages = Object.fromEntries([root, ...rest]);
  fs.writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
  process.stdout.write(`added ${missing.join(', ')}\n`);
}

main();
