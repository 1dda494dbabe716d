/**
 * The code the start chunk leaves out that the three tabs load: the
 * Efficiency and Errors tabs, the Overview's week-over-week card and the runs
 * table (Errors' failing runs, the drill-down). One lazy chunk rather than
 * four: gzip then codes their common names and helpers once, about 1.3 KB
 * less over the three tabs (docs/DASHBOARD.md, "What loads when"). The Overview
 * fetches it for the week-over-week card, alongside its data.
 */
export { RunsTable } from '../runs-table';
export { EfficiencyTab } from './efficiency';
export { ErrorsTab } from './errors';
export { WeekOverWeekCard } from './week-card';
