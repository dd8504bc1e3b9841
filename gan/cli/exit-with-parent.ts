// A process started by a sweep (a job's `train` or `eval`) must not outlive the process that started
// it: if that one is killed (kill -9, a machine's worker stopped hard), another worker takes the job
// over and resumes its run, and a leftover process would go on writing the same run directory. The
// starter sets POSIT_GAN_EXIT_WITH_PARENT=1 and keeps a pipe on our stdin open; when the pipe
// closes (the starter is gone, however it ended), this process sends itself SIGTERM: the same stop
// as any other termination request (train's own handling of it applies).

export function exitWithParent(): void {
  if (process.env.POSIT_GAN_EXIT_WITH_PARENT !== '1') return;
  const stdin = process.stdin;
  const stop = () => process.kill(process.pid, 'SIGTERM');
  stdin.once('end', stop);
  stdin.once('error', stop);
  stdin.resume();
  // Watching the pipe must not keep a finished process alive.
  (stdin as unknown as { unref?: () => void }).unref?.();
}
