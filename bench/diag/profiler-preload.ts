/**
 * Diagnostics preload (`node --import .../profiler-preload.js`): a CPU profiler a parent switches with
 * signals, because Node 20 refuses `--cpu-prof` in NODE_OPTIONS. The first SIGUSR2 starts the V8
 * sampling profiler; the next one stops it and writes `$BOSUN_CPU_PROFILE_DIR/cpu-<pid>-<n>.cpuprofile`
 * (then `.done` next to it, so the parent knows the file is complete). Only the workload window is
 * profiled.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BOSUN_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  let count = 0;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 250 }, () => session.post('Profiler.start')),
      );
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      const file = join(dir, `cpu-${process.pid}-${++count}.cpuprofile`);
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
      writeFileSync(`${file}.done`, err ? String(err) : 'ok');
    });
  });
}
