/**
 * Child process for the kill -9 trials: labels continuously through the service, exactly as the app
 * does, and acknowledges each label on stdout only after the service has answered.
 */
import fs from 'node:fs';
import { createApp } from '../../src-main/service/app.ts';
import { dispatch } from '../../src-main/service/dispatch.ts';

const [projectDir, homeDir] = process.argv.slice(2);
const app = createApp({ mode: 'browser', homeDir, backupIntervalMs: 0 });
const { projectId } = app.openProjectDir(projectDir);
const queue = await dispatch(app.service, 'queue.list', { projectId, acquisition: 'random', limit: 500 });
if (!queue.ok) throw new Error(queue.error.message);
const imageIds = (queue.value as { items: { imageId: number }[] }).items.map((i) => i.imageId);
fs.writeSync(1, 'ready\n');
for (let n = 0; ; n++) {
  const imageId = imageIds[n % imageIds.length];
  const classIdx = n % 2;
  const result = await dispatch(app.service, 'label.add', { projectId, imageId, label: { kind: 'class', classIdx }, annotator: 'kill-test', msSpent: n });
  if (!result.ok) throw new Error(result.error.message);
  fs.writeSync(1, `ack ${(result.value as { eventId: number }).eventId} ${imageId} ${classIdx} ${n}\n`);
}
