/**
 * Light and dark themes. The page follows prefers-color-scheme until the
 * viewer picks one with the toggle; that choice is remembered. Charts draw
 * on canvas, so they take their colours from these palettes, not from CSS.
 */

export type Theme = 'light' | 'dark';

const STORAGE_KEY = 'fixer-metrics-theme';

export interface Palette {
  text: string;
  axis: string;
  grid: string;
  success: string;
  failure: string;
  primary: string;
  secondary: string;
  tertiary: string;
  quaternary: string;
  threshold: string;
}

// Okabe–Ito hues: distinguishable with the common colour-vision deficiencies.
export const palettes: Record<Theme, Palette> = {
  light: {
    text: '#1f2328',
    axis: '#57606a',
    grid: 'rgba(31,35,40,0.08)',
    success: '#009e73',
    failure: '#d55e00',
    primary: '#0072b2',
    secondary: '#e69f00',
    tertiary: '#cc79a7',
    quaternary: '#56b4e9',
    threshold: '#b42318',
  },
  dark: {
    text: '#e6edf3',
    axis: '#9da7b3',
    grid: 'rgba(230,237,243,0.10)',
    success: '#2bc48a',
    failure: '#ff8a3d',
    primary: '#4ea8ff',
    secondary: '#f5c04a',
    tertiary: '#e89ac7',
    quaternary: '#8fd3ff',
    threshold: '#ff6b6b',
  },
};

/** The remembered choice, if the viewer made one. */
export function storedTheme(): Theme | null {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : null;
  } catch {
    return null;
  }
}

export function systemTheme(): Theme {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches
    ? 'dark'
    : 'light';
}

export function rememberTheme(theme: Theme): void {
  try {
    localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // Private mode without storage: the toggle still works for this page.
  }
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}
