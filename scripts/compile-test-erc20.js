#!/usr/bin/env node
/* global __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script run by node directly */
/**
 * Compiles the tests' ERC-20 (test/support/anvil/contracts/TestToken.sol) with solc-js (npm `solc`,
 * pinned in devDependencies; the compiler is bundled, nothing is downloaded) and writes the artifact
 * TestToken.json (abi + creation bytecode) beside the source.
 *
 *   node scripts/compile-test-erc20.js           regenerate the artifact
 *   node scripts/compile-test-erc20.js --check   exit 1 if the committed artifact is not what the source compiles to
 */
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const prettier = require('prettier');
const solc = require('solc');

const ROOT = path.resolve(__dirname, '..');
const SOURCE_NAME = 'test/support/anvil/contracts/TestToken.sol';
const CONTRACT = 'TestToken';
const ARTIFACT = path.join(ROOT, 'test/support/anvil/contracts/TestToken.json');

// cancun: supported by every anvil hardfork default since 2024; no metadata hash, so the bytecode
// depends on the source text and these settings only.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  metadata: { bytecodeHash: 'none' },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
};

async function compile() {
  const source = fs.readFileSync(path.join(ROOT, SOURCE_NAME), 'utf8');
  const input = { language: 'Solidity', sources: { [SOURCE_NAME]: { content: source } }, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const contract = output.contracts[SOURCE_NAME][CONTRACT];
  const artifact = {
    contractName: CONTRACT,
    sourceName: SOURCE_NAME,
    sourceSha256: crypto.createHash('sha256').update(source).digest('hex'),
    compiler: { name: 'solc-js', version: solc.version(), settings: SETTINGS },
    abi: contract.abi,
    bytecode: `0x${contract.evm.bytecode.object}`,
  };
  // Formatted as `prettier --check .` (npm run lint) expects it.
  const options = (await prettier.resolveConfig(ARTIFACT)) || {};
  return prettier.format(JSON.stringify(artifact), { ...options, filepath: ARTIFACT });
}

async function main() {
  const text = await compile();
  if (process.argv.includes('--check')) {
    const committed = fs.existsSync(ARTIFACT) ? fs.readFileSync(ARTIFACT, 'utf8') : '';
    if (committed !== text) {
      process.stderr.write(`${path.relative(ROOT, ARTIFACT)} is stale: run node scripts/compile-test-erc20.js\n`);
      process.exit(1);
    }
    process.stdout.write(`${path.relative(ROOT, ARTIFACT)} is up to date\n`);
    return;
  }
  fs.writeFileSync(ARTIFACT, text);
  process.stdout.write(`wrote ${path.relative(ROOT, ARTIFACT)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
