/**
 * Lazy chunks: the Efficiency and Errors tabs, loaded when first opened, and
 * the Overview's week-over-week card, fetched alongside the Overview's data
 * so it never delays the first chart. What loads at start stays within the
 * dashboard's 40 KB gzip budget (`npm run bench -- dashboard`).
 */
import type { ModelsResponse } from '../api-types';
import { ErrorBox, Skeleton } from '../components';
import { useLazy } from '../lazy';
import type { Loadable } from '../use-api';
import type { TabProps } from './shared';

export function EfficiencyTab(props: TabProps & { models: Loadable<ModelsResponse> }) {
  const tab = useLazy(() => import('./efficiency'));
  if (tab.module) return <tab.module.EfficiencyTab {...props} />;
  if (tab.failed) return <ErrorBox message="The Efficiency tab could not be loaded." onRetry={tab.load} />;
  return <Skeleton label="Loading the Efficiency tab" />;
}

export function ErrorsTab(props: TabProps) {
  const tab = useLazy(() => import('./errors'));
  if (tab.module) return <tab.module.ErrorsTab {...props} />;
  if (tab.failed) return <ErrorBox message="The Errors tab could not be loaded." onRetry={tab.load} />;
  return <Skeleton label="Loading the Errors tab" />;
}

export function WeekOverWeekCard(props: TabProps) {
  const card = useLazy(() => import('./week-card'));
  if (card.module) return <card.module.WeekOverWeekCard {...props} />;
  if (card.failed)
    return <ErrorBox message="The week-over-week card could not be loaded." onRetry={card.load} />;
  return <Skeleton height={300} label="Loading the week-over-week card" />;
}
