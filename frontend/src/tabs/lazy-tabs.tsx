/**
 * The Efficiency and Errors tabs and the Overview's week-over-week card, from
 * one lazy chunk (tab-chunk.ts) fetched when a tab first needs it: for the
 * Overview alongside its data, so it never delays the first chart.
 */
import type { ModelsResponse } from '../api-types';
import { lazyComponent } from '../components';
import type { Loadable } from '../use-api';
import type { TabProps } from './shared';

export const EfficiencyTab = lazyComponent<TabProps & { models: Loadable<ModelsResponse> }>(
  () => import('./tab-chunk').then((m) => m.EfficiencyTab),
  'Efficiency tab',
);

export const ErrorsTab = lazyComponent<TabProps>(
  () => import('./tab-chunk').then((m) => m.ErrorsTab),
  'Errors tab',
);

export const WeekOverWeekCard = lazyComponent<TabProps>(
  () => import('./tab-chunk').then((m) => m.WeekOverWeekCard),
  'week-over-week card',
  300,
);
