/** Runs a clean-up step whose failure must not hide the error being reported. */
export async function quietly(step: () => unknown): Promise<void> {
  try {
    await step()
  } catch {
    // already failing or shutting down: nothing better to do with it
  }
}
