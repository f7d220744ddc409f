/**
 * Calls that arrive while one is waiting share one run of `apply`. Inside a Durable Object, writes made without
 * an await between them are one implicit transaction, and each RPC that writes alone pays its own commit (an
 * fsync in the local runtime). The run starts on the next timer tick, after the deliveries already queued for
 * the object have joined it. Every caller gets its own result, or the run's error; nothing is answered before
 * `apply` has returned, and the object's output gate holds the answers until the writes are durable.
 */
export function sharedCommit<I, O>(apply: (items: I[]) => Promise<O[]>): (item: I) => Promise<O> {
  let waiting: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  const run = async () => {
    const batch = waiting;
    waiting = [];
    try {
      const results = await apply(batch.map((w) => w.item));
      if (results.length !== batch.length)
        throw new Error(`sharedCommit: ${results.length} results for ${batch.length} calls`);
      batch.forEach((w, i) => {
        w.resolve(results[i] as O);
      });
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  };
  return (item) =>
    new Promise<O>((resolve, reject) => {
      if (waiting.length === 0) setTimeout(run, 0);
      waiting.push({ item, resolve, reject });
    });
}
