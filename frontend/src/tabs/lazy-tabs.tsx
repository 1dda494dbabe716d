/**
 * Lazy chunks: the Efficiency and Errors tabs, loaded when first opened, and
 * the Overview's week-over-week card, fetched alongside the Overview's data
 * so it never delays the first chart. What loads at start stays within the
 * dashboard's 40 KB gzip budget (`npm run bench -- dashboard`).
 */
import type { ModelsResponse } from '../api-types';
import { lazyComponent } from '../components';
import type { Loadable } from '../use-api';
import type { TabProps } from './shared';

export const EfficiencyTab = lazyComponent<TabProps & { models: Loadable<ModelsResponse> }>(
  () => import('./efficiency').then((m) => m.EfficiencyTab),
  'Efficiency tab',
);

export const ErrorsTab = lazyComponent<TabProps>(
  () => import('./errors').then((m) => m.ErrorsTab),
  'Errors tab',
);

export const WeekOverWeekCard = lazyComponent<TabProps>(
  () => import('./week-card').then((m) => m.WeekOverWeekCard),
  'week-over-week card',
  300,
);
