import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../import/cache.ts';

export interface RecentProject {
  dir: string;
  name: string;
  openedAt: string;
}

export interface Settings {
  annotator: string | null;
  recentProjects: RecentProject[];
}

const MAX_RECENT = 12;

/** Where Episteme keeps its own settings: EPISTEME_HOME, else ~/.episteme (Electron passes userData). */
export function defaultHomeDir(): string {
  return process.env.EPISTEME_HOME || path.join(os.homedir(), '.episteme');
}

export class SettingsStore {
  private readonly file: string;

  constructor(readonly homeDir: string) {
    this.file = path.join(homeDir, 'settings.json');
  }

  read(): Settings {
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<Settings>;
      return {
        annotator: typeof parsed.annotator === 'string' ? parsed.annotator : null,
        recentProjects: Array.isArray(parsed.recentProjects) ? parsed.recentProjects.filter((p) => typeof p?.dir === 'string') : [],
      };
    } catch {
      return { annotator: null, recentProjects: [] };
    }
  }

  private write(settings: Settings): Settings {
    writeFileAtomic(this.file, JSON.stringify(settings, null, 2));
    return settings;
  }

  setAnnotator(annotator: string): Settings {
    return this.write({ ...this.read(), annotator: annotator.trim() });
  }

  rememberProject(dir: string, name: string): Settings {
    const current = this.read();
    const recent = [{ dir, name, openedAt: new Date().toISOString() }, ...current.recentProjects.filter((p) => p.dir !== dir)].slice(0, MAX_RECENT);
    return this.write({ ...current, recentProjects: recent });
  }
}
