/**
 * At most one run of `fn` at a time: whoever calls while a run is in flight gets that run's
 * promise. Refresh tokens rotate on use and presenting a rotated one ends the whole session,
 * so two refreshes at once would log the user out: every refresh goes through one of these.
 */
export function singleFlight<T>(fn: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    // Inside an async function, a synchronous throw of fn becomes a rejection like any other.
    inFlight ??= (async () => fn())().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}
