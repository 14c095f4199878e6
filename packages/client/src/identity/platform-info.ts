/** RunMat's names for the operating system (`macos`, not `darwin`). */
export function runmatOs(platform: string): string {
  switch (platform) {
    case 'darwin':
      return 'macos';
    case 'win32':
      return 'windows';
    default:
      return platform;
  }
}

/** RunMat's names for the CPU architecture (Rust target style). */
export function runmatArch(arch: string): string {
  switch (arch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'ia32':
      return 'x86';
    default:
      return arch;
  }
}
