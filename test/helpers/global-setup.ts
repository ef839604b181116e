// Filled in as suites need shared fixtures (built plugin, sandbox image).
export default async function setup(): Promise<void> {}
