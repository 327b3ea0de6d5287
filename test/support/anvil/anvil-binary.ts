import { existsSync } from 'node:fs';

/** npm package that ships the anvil binary for each platform (optional dependencies of `@foundry-rs/anvil`). */
const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': '@foundry-rs/anvil-linux-amd64',
  'linux-arm64': '@foundry-rs/anvil-linux-arm64',
  'darwin-x64': '@foundry-rs/anvil-darwin-amd64',
  'darwin-arm64': '@foundry-rs/anvil-darwin-arm64',
  'win32-x64': '@foundry-rs/anvil-win32-amd64',
};

/**
 * The path of the real anvil executable: `ANVIL_BIN` when set, else the binary of this platform's
 * `@foundry-rs/anvil-<platform>` package. The `@foundry-rs/anvil` wrapper (`node_modules/.bin/anvil`)
 * is deliberately not used: it runs the binary as a grandchild, which a SIGKILL of the wrapper
 * would leave running.
 */
export function anvilBinaryPath(): string {
  const fromEnv = process.env.ANVIL_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`ANVIL_BIN=${fromEnv} does not exist`);
    return fromEnv;
  }
  const key = `${process.platform}-${process.arch}`;
  const pkg = PLATFORM_PACKAGES[key];
  if (!pkg) throw new Error(`anvil has no npm binary for ${key}; set ANVIL_BIN to an anvil executable`);
  const binary = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  try {
    return require.resolve(`${pkg}/bin/${binary}`);
  } catch {
    throw new Error(`${pkg} is not installed (run npm ci), or set ANVIL_BIN to an anvil executable`);
  }
}
