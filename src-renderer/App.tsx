import { useCallback, useEffect, useState } from 'react';
import type { ProjectInfoT, Response } from '../src-main/service/contract.ts';
import { useClient } from './client/ClientContext.tsx';
import { useNotify } from './hooks/useNotify.tsx';
import { HomeScreen } from './screens/HomeScreen.tsx';
import { ProjectScreen } from './screens/ProjectScreen.tsx';

type Settings = Response<'settings.get'>;
type AppInfo = Response<'app.info'>;

export function App() {
  const client = useClient();
  const { notifyError } = useNotify();
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [open, setOpen] = useState<{ project: ProjectInfoT; importDir: string | null } | null>(null);

  const loadSettings = useCallback(() => {
    client['settings.get']({}).then(setSettings, notifyError);
  }, [client, notifyError]);

  useEffect(() => {
    client['app.info']({}).then(setInfo, notifyError);
    loadSettings();
    // `episteme serve <dir>` opens the project itself and names it in the URL: #/project/<projectId>.
    const routed = projectIdFromHash();
    if (routed) {
      client['project.status']({ projectId: routed }).then(
        (status) => setOpen((o) => o ?? { project: status.project, importDir: null }),
        (error) => {
          history.replaceState(null, '', location.pathname + location.search);
          notifyError(error);
        },
      );
    }
  }, [client, loadSettings, notifyError]);

  useEffect(() => {
    document.title = open ? `${open.project.name} — Episteme` : 'Episteme';
    const hash = open ? `#/project/${open.project.projectId}` : '';
    if (location.hash !== hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  }, [open]);

  const setAnnotator = useCallback(
    async (annotator: string) => {
      try {
        setSettings(await client['settings.setAnnotator']({ annotator }));
      } catch (error) {
        notifyError(error);
        throw error;
      }
    },
    [client, notifyError],
  );

  if (open) {
    return (
      <ProjectScreen
        key={open.project.projectId}
        project={open.project}
        annotator={settings?.annotator ?? null}
        initialImport={open.importDir}
        onSetAnnotator={setAnnotator}
        onClose={() => {
          setOpen(null);
          loadSettings();
        }}
      />
    );
  }
  return <HomeScreen info={info} settings={settings} onOpened={(project, importDir) => setOpen({ project, importDir: importDir ?? null })} />;
}

function projectIdFromHash(): string | null {
  const match = /^#\/project\/(p[0-9]{1,9})$/.exec(location.hash);
  return match ? match[1] : null;
}
