import type pg from 'pg';

/**
 * Closes an export connection. After a failure the connection may be stuck mid-COPY (the reading side
 * was destroyed), where a polite `end()` can wait forever: then the socket is destroyed, which makes the
 * server abort the (read-only) transaction.
 */
export async function closeClient(client: pg.Client, afterFailure: boolean): Promise<void> {
  if (!afterFailure) {
    await client.end().catch(() => {});
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const ended = client.end().then(
    () => true,
    () => true,
  );
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), 1000);
  });
  const clean = await Promise.race([ended, timedOut]);
  clearTimeout(timer);
  if (!clean) client.connection.stream.destroy();
}
