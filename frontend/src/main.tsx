import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { App } from './app';
import { startSession } from './auth';
import { warmUpCanvas } from './chart';
import { applyTheme, storedTheme, systemTheme } from './theme';

// Before the first paint, so a dark-mode viewer never sees a white flash.
applyTheme(storedTheme() ?? systemTheme());

const root = document.getElementById('app');
if (root) {
  startSession().then(
    (session) => render(<App session={session} />, root),
    (error: Error) => {
      root.textContent = `Sign-in failed: ${error.message}. Reload the page to try again.`;
    },
  );
  // While /config.json and the data load.
  setTimeout(warmUpCanvas);
}
