import { Alert, Snackbar } from '@mui/material';
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { errorMessage } from '../client/client.ts';

type Severity = 'error' | 'warning' | 'info' | 'success';
interface Notice {
  id: number;
  message: string;
  severity: Severity;
}
interface Notify {
  notify(message: string, severity?: Severity): void;
  notifyError(error: unknown): void;
}

const NotifyContext = createContext<Notify | null>(null);

/** One snackbar for the whole app: every failed call ends up here, never as a crash. */
export function NotifyProvider({ children }: { children: ReactNode }) {
  const [queue, setQueue] = useState<Notice[]>([]);
  const notify = useCallback((message: string, severity: Severity = 'info') => {
    setQueue((q) => [...q.slice(-4), { id: Date.now() + Math.random(), message, severity }]);
  }, []);
  const notifyError = useCallback((error: unknown) => notify(errorMessage(error), 'error'), [notify]);
  const value = useMemo(() => ({ notify, notifyError }), [notify, notifyError]);
  const current = queue[0];
  const close = () => setQueue((q) => q.slice(1));
  return (
    <NotifyContext.Provider value={value}>
      {children}
      <Snackbar
        key={current?.id}
        open={Boolean(current)}
        autoHideDuration={current?.severity === 'error' ? 8000 : 3500}
        onClose={(_event, reason) => reason !== 'clickaway' && close()}
        anchorOrigin={{ vertical: 'bottom', horizontal: 'left' }}
      >
        {current ? (
          <Alert data-testid={`notice-${current.severity}`} severity={current.severity} variant="filled" onClose={close} sx={{ maxWidth: 520 }}>
            {current.message}
          </Alert>
        ) : undefined}
      </Snackbar>
    </NotifyContext.Provider>
  );
}

export function useNotify(): Notify {
  const notify = useContext(NotifyContext);
  if (!notify) throw new Error('useNotify outside <NotifyProvider>');
  return notify;
}
