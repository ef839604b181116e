import Docker from "dockerode";

/**
 * A Docker Engine client for `dockerHost` (unix://, tcp://, ssh:// URL) or, when unset,
 * the local socket. One place decides how we reach Docker.
 */
export function createDockerClient(dockerHost?: string): Docker {
  if (!dockerHost) return new Docker({ socketPath: "/var/run/docker.sock" });
  const url = new URL(dockerHost);
  switch (url.protocol) {
    case "unix:":
      return new Docker({ socketPath: url.pathname });
    case "tcp:":
      return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: "http" });
    case "ssh:":
      return new Docker({
        protocol: "ssh",
        host: url.hostname,
        port: Number(url.port || 22),
        username: url.username || undefined,
      } as Docker.DockerOptions);
    default:
      throw new Error(`unsupported dockerHost ${dockerHost}: use unix://, tcp:// or ssh://`);
  }
}

export function describeDockerHost(dockerHost?: string): string {
  return dockerHost ?? "unix:///var/run/docker.sock";
}

/** The Engine answered 404: no such container, volume or image. */
export function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { statusCode?: unknown }).statusCode === 404;
}
