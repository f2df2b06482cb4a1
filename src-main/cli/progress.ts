/** A one-line progress bar on stderr when it is a terminal; silent otherwise (CI, pipes, --json). */
export function progressBar(label: string, enabled = process.stderr.isTTY === true) {
  let lastDraw = 0;
  const started = Date.now();
  return {
    update(fraction: number, detail = '') {
      if (!enabled || (Date.now() - lastDraw < 80 && fraction < 1)) return;
      lastDraw = Date.now();
      const width = 28;
      const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
      const elapsed = (Date.now() - started) / 1000;
      const eta = fraction > 0.02 && fraction < 1 ? ` ~${Math.round((elapsed * (1 - fraction)) / fraction)}s left` : '';
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(fraction * 100)}% ${detail}${eta}\x1b[K`);
    },
    done() {
      if (enabled) process.stderr.write('\n');
    },
  };
}
