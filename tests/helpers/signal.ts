/** One test step tells another that something happened: `fire()` resolves `fired`. */
export interface Signal {
  fired: Promise<void>;
  fire(): void;
}

/** A signal not yet fired (Node 20 has no Promise.withResolvers). */
export function signal(): Signal {
  let fire: () => void = () => undefined;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fired, fire };
}
