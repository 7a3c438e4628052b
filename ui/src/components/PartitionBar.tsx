// A partition status bar: one canvas, one fillRect per run-length range (the server
// merges sub-pixel runs, so at most about one per pixel), hover resolved by index
// arithmetic and the key fetched lazily for the hovered index only.
import { useEffect, useRef, useState } from "react";

export interface BarRange {
  start: number;
  end: number; // exclusive
  state: number;
}

export interface BarProps {
  ranges: BarRange[];
  total: number;
  colours: Record<number, string>;
  label?: (state: number) => string;
  keyAt?: (index: number) => Promise<string>;
  height?: number;
  testId?: string;
}

/** Draws `ranges` over [0, total) into `canvas`, scaled for the device's pixel ratio. */
export function drawBar(
  canvas: HTMLCanvasElement,
  ranges: BarRange[],
  total: number,
  colours: Record<number, string>,
): void {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.max(1, Math.round(width * ratio));
  canvas.height = Math.max(1, Math.round(height * ratio));
  const context = canvas.getContext("2d")!;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  if (total <= 0) return;
  const scale = width / total;
  let colour = "";
  for (const range of ranges) {
    const next = colours[range.state] ?? "#ccc";
    if (next !== colour) {
      context.fillStyle = next;
      colour = next;
    }
    const x = range.start * scale;
    // At least a hairline, so that one failed partition among a million still shows.
    context.fillRect(x, 0, Math.max((range.end - range.start) * scale, 0.75), height);
  }
}

export function PartitionBar({ ranges, total, colours, label, keyAt, height = 28, testId }: BarProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<{ x: number; text: string } | null>(null);
  // Keys already asked for, by index: a mouse moving within one partition asks once.
  const keys = useRef(new Map<number, Promise<string>>());
  useEffect(() => keys.current.clear(), [ranges, total]);
  useEffect(() => {
    const element = canvas.current;
    if (!element) return;
    const draw = () => {
      const started = performance.now();
      drawBar(element, ranges, total, colours);
      // Kept for the browser benchmarks (bench/ui_browser.py), and for anyone's devtools.
      performance.measure("partition-bar-draw", { start: started, end: performance.now() });
    };
    draw();
    const observer = new ResizeObserver(draw);
    observer.observe(element);
    return () => observer.disconnect();
  }, [ranges, total, colours]);

  const onMove = (event: React.MouseEvent<HTMLCanvasElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const index = Math.min(total - 1, Math.max(0, Math.floor((x / rect.width) * total)));
    const range = findRange(ranges, index);
    const state = range ? (label?.(range.state) ?? String(range.state)) : "";
    setHover({ x, text: `#${index} ${state}` });
    if (!keyAt) return;
    let key = keys.current.get(index);
    if (!key) {
      if (keys.current.size > 2000) keys.current.clear();
      key = keyAt(index).catch(() => `#${index}`);
      keys.current.set(index, key);
    }
    key.then((key) =>
      setHover((old) => (old && old.x === x ? { x, text: `${key} ${state}` } : old)),
    );
  };
  return (
    <div className="bar" style={{ height }}>
      <canvas
        ref={canvas}
        data-testid={testId}
        style={{ width: "100%", height }}
        onMouseMove={onMove}
        onMouseLeave={() => setHover(null)}
      />
      {hover && (
        <div className="bar-tip" style={{ left: hover.x }}>
          {hover.text}
        </div>
      )}
    </div>
  );
}

/** The range holding `index`: ranges are sorted and cover [0, total), so bisect. */
export function findRange(ranges: BarRange[], index: number): BarRange | undefined {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const range = ranges[middle];
    if (index < range.start) high = middle - 1;
    else if (index >= range.end) low = middle + 1;
    else return range;
  }
  return undefined;
}
