import './client/zodConfig.ts';
import { CssBaseline, ThemeProvider } from '@mui/material';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { ClientProvider } from './client/ClientContext.tsx';
import { createClient } from './client/client.ts';
import { pickTransport } from './client/transport.ts';
import { NotifyProvider } from './hooks/useNotify.tsx';
import { theme } from './theme.ts';

const client = createClient(pickTransport());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ThemeProvider theme={theme}>
      <CssBaseline />
      <ClientProvider client={client}>
        <NotifyProvider>
          <App />
        </NotifyProvider>
      </ClientProvider>
    </ThemeProvider>
  </StrictMode>,
);
