/** The drill-down: the runs behind one chart bucket, in a modal dialog, paginated by the API's cursor. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { authorizedFetch } from './api';
import type { Bucket, Granularity, RunsResponse } from './api-types';
import { ErrorBox, RunsTable, Skeleton } from './components';
import { formatBucketLabel } from './format';
import { bucketRange } from './state';
import { useApi } from './use-api';

const PAGE_SIZE = 20;

/**
 * Downloads an API resource as a file. Fetched rather than linked, because a
 * plain link cannot carry the bearer token when auth is on.
 */
async function downloadFromApi(path: string, fileName: string): Promise<void> {
  const [{ saveFile }, response] = await Promise.all([import('./csv'), authorizedFetch(path)]);
  saveFile(await response.blob(), fileName);
}

export interface DrillDownProps {
  bucket: Bucket;
  granularity: Granularity;
  /** The view's query; its from/to are replaced by the bucket's. */
  query: string;
  timeZone: string;
  onClose: () => void;
}

export function DrillDown({ bucket, granularity, query, timeZone, onClose }: DrillDownProps) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  // Cursors of the pages seen so far; the last one is the page on screen.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [downloadError, setDownloadError] = useState<string | null>(null);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);

  const params = new URLSearchParams(query);
  const { from, to } = bucketRange(bucket.start, granularity);
  params.set('from', from);
  params.set('to', to);
  const cursor = cursors[cursors.length - 1] ?? null;
  const pageParams = new URLSearchParams(params);
  pageParams.set('limit', String(PAGE_SIZE));
  if (cursor) pageParams.set('cursor', cursor);
  const page = useApi<RunsResponse>(`/api/runs?${pageParams}`, 0);
  const csvParams = new URLSearchParams(params);
  csvParams.set('format', 'csv');
  const label = formatBucketLabel(bucket.start, granularity, timeZone);
  const pageNumber = cursors.length;

  return (
    <dialog ref={dialogRef} class="drilldown" aria-labelledby="drilldown-title" onClose={onClose}>
      <header class="dialog-head">
        <div>
          <h2 id="drilldown-title">Runs of {label}</h2>
          <p class="subtitle">
            {bucket.executions} runs, {bucket.failures} failed · newest first · {timeZone}
          </p>
        </div>
        <button type="button" class="close" onClick={() => dialogRef.current?.close()} aria-label="Close">
          ×
        </button>
      </header>
      <div class="dialog-body">
        {page.data ? (
          page.data.runs.length > 0 ? (
            <RunsTable
              runs={page.data.runs}
              timeZone={timeZone}
              caption={`Runs of ${label}, page ${pageNumber}`}
            />
          ) : (
            <p class="muted">No runs in this bucket for the current filters.</p>
          )
        ) : page.error ? (
          <ErrorBox message={page.error} onRetry={page.retry} />
        ) : (
          <Skeleton height={200} label="Loading runs" />
        )}
      </div>
      <footer class="dialog-foot">
        <button
          type="button"
          class="link-button"
          onClick={() => {
            setDownloadError(null);
            downloadFromApi(`/api/runs?${csvParams}`, `runs-${from}-${to}.csv`.replace(/:/g, '')).catch(
              (error: Error) => setDownloadError(error.message),
            );
          }}
        >
          Download CSV of all runs in this bucket
        </button>
        {downloadError ? <span role="alert">{downloadError}</span> : null}
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={pageNumber === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
            Previous
          </button>
          <span aria-live="polite">Page {pageNumber}</span>
          <button
            type="button"
            disabled={!page.data?.nextCursor}
            onClick={() => page.data?.nextCursor && setCursors([...cursors, page.data.nextCursor])}
          >
            Next
          </button>
        </nav>
      </footer>
    </dialog>
  );
}
