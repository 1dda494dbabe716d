/**
 * The one uPlot wrapper. It creates the plot when its box is first laid
 * out and destroys it on unmount; new data goes through setData and a new
 * box size through setSize, so only a change of options (theme, zone,
 * granularity) rebuilds the plot.
 * Every render runs in uPlot's immediate mode (batch) inside timedRender, so
 * render-timing.ts can time it alone for `npm run bench`.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { describeBucket, legendOnLastWhenIdle, nextBucket } from './chart-a11y';
import type { ChartOptions } from './chart-kit';
import { timedRender } from './render-timing';

export interface ChartProps {
  /** Names the plot for assistive technology and the timing marks. */
  title: string;
  options: ChartOptions;
  data: uPlot.AlignedData;
  height?: number;
  /** Called with the data index of a clicked (or Enter-ed) bucket. */
  onPick?: ((index: number) => void) | undefined;
  /** The chart in words, for screen readers. */
  summary?: string | undefined;
  /** Data index of a bucket still in progress, shaded and labelled "so far". */
  partial?: number | null | undefined;
}

/** Shades the bucket in progress (to the plot's right edge) and labels it, so its low value reads as unfinished. */
function drawPartial(plot: uPlot, index: number | null | undefined): void {
  const xs = plot.data[0];
  const x = index == null ? undefined : xs[index];
  if (x == null || index == null) return;
  const previous = xs[index - 1];
  const halfWidth = previous == null ? 0 : (x - previous) / 2;
  const { ctx, bbox } = plot;
  const left = Math.max(bbox.left, plot.valToPos(x - halfWidth, 'x', true));
  const right = bbox.left + bbox.width;
  if (left >= right) return;
  ctx.save();
  ctx.fillStyle = 'rgba(127, 127, 127, 0.14)';
  ctx.fillRect(left, bbox.top, right - left, bbox.height);
  // The x axis's colour, from the theme's palette: reading the page's CSS
  // here (getComputedStyle) would force a style pass inside every render.
  const stroke = plot.axes[0]?.stroke;
  ctx.fillStyle = (typeof stroke === 'function' ? stroke(plot, 0) : stroke) ?? '#666';
  ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'top';
  ctx.fillText('so far', right - 4 * devicePixelRatio, bbox.top + 4 * devicePixelRatio);
  ctx.restore();
}

export function Chart({ title, options, data, height = 220, onPick, summary, partial }: ChartProps) {
  const summaryId = useId();
  const boxRef = useRef<HTMLDivElement>(null);
  const plotRef = useRef<uPlot | null>(null);
  const dataRef = useRef(data);
  const pickRef = useRef(onPick);
  pickRef.current = onPick;
  const partialRef = useRef(partial);
  partialRef.current = partial;

  // Create (and, when options change, rebuild) the plot once the box has a
  // width. Both creation and resizing run in the ResizeObserver's callback,
  // which the browser calls after its layout: reading clientWidth there costs
  // nothing, where reading it in the effect made the first chart of a page
  // lay out the whole page inside its render.
  useEffect(() => {
    const box = boxRef.current;
    if (!box) return;
    let lastWidth = 0;
    const pick = () => {
      const index = plotRef.current?.cursor.idx;
      if (index != null && pickRef.current) pickRef.current(index);
    };
    const create = (width: number) => {
      const plot = timedRender(
        title,
        () =>
          new uPlot(
            {
              ...options,
              width,
              height,
              hooks: {
                ...options.hooks,
                draw: [...(options.hooks?.draw ?? []), (drawn) => drawPartial(drawn, partialRef.current)],
                setCursor: [...(options.hooks?.setCursor ?? []), legendOnLastWhenIdle],
              },
            },
            dataRef.current,
            (created, init) => {
              box.append(created.root);
              created.batch(init as () => void);
            },
          ),
      );
      plotRef.current = plot;
      legendOnLastWhenIdle(plot);
      plot.over.addEventListener('click', pick);
    };
    const resize = new ResizeObserver(() => {
      const width = box.clientWidth;
      if (width === lastWidth || width === 0) return;
      lastWidth = width;
      const fitted = Math.max(200, width);
      const plot = plotRef.current;
      if (plot) timedRender(title, () => plot.batch(() => plot.setSize({ width: fitted, height })));
      else create(fitted);
    });
    resize.observe(box);

    return () => {
      resize.disconnect();
      const plot = plotRef.current;
      plot?.over.removeEventListener('click', pick);
      plot?.destroy();
      plotRef.current = null;
    };
  }, [options, height, title]);

  // New data for the same plot.
  useEffect(() => {
    const plot = plotRef.current;
    if (dataRef.current === data) return;
    dataRef.current = data;
    if (!plot) return;
    timedRender(title, () => plot.batch(() => plot.setData(data)));
    legendOnLastWhenIdle(plot);
  }, [data]);

  // Keyboard: arrows move the cursor across buckets and say its values; Enter opens the one under it.
  const [announcement, setAnnouncement] = useState('');
  const onKeyDown = (event: KeyboardEvent) => {
    const plot = plotRef.current;
    const xs = plot?.data[0];
    if (!plot || !xs) return;
    const current = plot.cursor.idx ?? -1;
    if ((event.key === 'Enter' || event.key === ' ') && current >= 0 && pickRef.current) {
      event.preventDefault();
      pickRef.current(current);
      return;
    }
    const next = nextBucket(event.key, current, xs.length);
    const x = next === null ? undefined : xs[next];
    if (next === null || x == null) return;
    event.preventDefault();
    plot.setCursor({ left: plot.valToPos(x, 'x'), top: plot.over.clientHeight / 2 });
    setAnnouncement(describeBucket(plot, next, partialRef.current));
  };

  return (
    <>
      <div
        ref={boxRef}
        class="chart-box"
        // An interactive canvas with its own keys: arrows move along the buckets, Enter opens one.
        role="application"
        aria-roledescription="chart"
        aria-label={`${title}. Arrow keys move between buckets${onPick ? '; Enter lists their runs' : ''}.`}
        aria-describedby={summary ? summaryId : undefined}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: role="application" with its own keys (arrows, Enter) must be reachable by Tab.
        tabIndex={0}
        onKeyDown={onKeyDown}
        data-partial={partial ?? undefined}
      />
      <p class="sr-only" aria-live="polite" data-announce>
        {announcement}
      </p>
      {summary ? (
        <p id={summaryId} class="sr-only" data-summary>
          {summary}
        </p>
      ) : null}
    </>
  );
}
