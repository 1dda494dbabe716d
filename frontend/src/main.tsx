import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { App } from './app';
import { startSession } from './auth';
import { applyTheme, storedTheme, systemTheme } from './theme';

// Before the first paint, so a dark-mode viewer never sees a white flash.
applyTheme(storedTheme() ?? systemTheme());

const root = document.getElementById('app');
if (root) {
  // The app renders (and asks for its data) while /config.json is on its way; its requests wait for the session.
  const session = startSession();
  render(<App session={session} />, root);
  session.catch((error: Error) => {
    render(null, root);
    root.textContent = `Sign-in failed: ${error.message}. Reload the page to try again.`;
  });
}
