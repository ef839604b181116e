/** A verb that a later release provides. It says so and fails: never a fake success. */
export function notAvailableYet(verb: string): () => void {
  return () => {
    process.stderr.write(
      `openclaw nemoclaw ${verb}: not available yet in this version of nemoclaw.\n` +
        `  Next: see \`openclaw nemoclaw --help\` for what works today.\n`,
    );
    process.exitCode = 2;
  };
}
