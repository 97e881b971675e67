export interface BundleFigures {
  minified: number
  gzip: number
  /** Minified bytes in the bundle by package. */
  packages: Record<string, number>
  warnings: string[]
}

export const SCENARIOS: Array<{ name: string; contents: string }>
export function bundleForBrowser(contents: string): Promise<BundleFigures>
export function measureAll(): Promise<Array<BundleFigures & { name: string }>>
