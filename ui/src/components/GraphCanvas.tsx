// The global lineage graph: positions come from the server (GetAssetGraphLayout), the
// whole drawing is one canvas (group bands, edges, nodes, culled to the viewport), and
// only when zoomed in far enough that few nodes show do they become DOM links.
import { memo, useEffect, useMemo, useRef, useState } from "react";
import type { GetAssetGraphLayoutResponse } from "../gen/weir/v1/control_plane_pb.js";
import { assetHref } from "../format.js";
import { Link } from "../router.js";

const PALETTE = ["#4c8bf5", "#2e9e5b", "#c98a1b", "#9b59b6", "#e67e22", "#16a085", "#d35400", "#2c3e50"];
const DOM_LIMIT = 300; // nodes drawn as DOM at most
const DOM_SCALE = 0.55; // and only from this zoom on
const TITLE = 36; // the band's title strip (graph_layout.BAND_PADDING)
const NO_ALARM = new Map<number, string>();
const CACHE_PIXELS = 4096; // the largest bitmap a zoomed-out scene is cached in
const MARGIN = 40; // world units around the drawing

interface View {
  scale: number;
  tx: number;
  ty: number;
}

// Drawing statistics for the browser benchmarks (bench/ui_browser.py) and devtools.
export interface GraphStats {
  frames: number;
  lastFrameMs: number;
  totalFrameMs: number;
  firstDrawMs?: number;
  // Screen = world * scale + (tx, ty), in CSS pixels from the canvas's top-left corner.
  view?: View;
}

declare global {
  interface Window {
    __weirGraph?: GraphStats;
  }
}

/** A node as a DOM link when zoomed in; memoized, so a pan that brings nodes into view
 * mounts only those, and the rest stay as they are (their layer moves by a transform). */
const GraphNode = memo(function GraphNode({
  name,
  x,
  y,
  width,
  height,
  border,
}: {
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  border?: string;
}) {
  return (
    <Link
      to={assetHref(name)}
      className="graph-node"
      data-testid="graph-node"
      style={{ left: x, top: y, width, height, borderColor: border }}
    >
      {name}
    </Link>
  );
});

/** Nodes of each layer sorted by y, for hit tests by bisection. */
function indexByLayer(layout: GetAssetGraphLayoutResponse): number[][] {
  const byLayer: number[][] = [];
  layout.layer.forEach((layer, i) => (byLayer[layer] ??= []).push(i));
  byLayer.forEach((nodes) => nodes.sort((a, b) => layout.y[a] - layout.y[b]));
  return byLayer;
}

export function GraphCanvas({
  layout,
  onOpen,
  focus,
  alarm = NO_ALARM,
}: {
  layout: GetAssetGraphLayoutResponse;
  onOpen: (key: string) => void;
  focus?: string;
  // Node index -> colour for the assets whose health calls for attention.
  alarm?: Map<number, string>;
}) {
  const host = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const domLayer = useRef<HTMLDivElement>(null);
  const view = useRef<View>({ scale: 1, tx: 0, ty: 0 });
  const frame = useRef(0);
  const [collapsed, setCollapsed] = useState<Set<number>>(new Set());
  const [domNodes, setDomNodes] = useState<number[]>([]);
  const byLayer = useMemo(() => indexByLayer(layout), [layout]);
  const pitch = layout.nodeWidth + 80; // graph_layout: NODE_WIDTH + COLUMN_GAP
  const counts = useMemo(() => {
    const result = new Array(layout.groups.length).fill(0);
    layout.groupIndex.forEach((g) => result[g]++);
    return result;
  }, [layout]);

  // The scene at `scale` for the world rectangle [left, right] x [top, bottom]: group
  // bands, edges, nodes (labels while few show). Returns the nodes in the rectangle.
  const paint = (
    context: CanvasRenderingContext2D,
    scale: number,
    left: number,
    top: number,
    right: number,
    bottom: number,
  ): number[] => {
    const w = layout.nodeWidth;
    const h = layout.nodeHeight;
    context.lineWidth = 1 / scale;
    context.font = `${Math.max(12, 13 / Math.max(scale, 0.2))}px system-ui, sans-serif`;
    layout.groupBoxes.forEach((box, g) => {
      if (box.x > right || box.x + box.width < left || box.y > bottom || box.y + box.height < top) return;
      const folded = collapsed.has(g);
      context.fillStyle = folded ? "#dfe6f3" : "#ffffff";
      context.strokeStyle = PALETTE[g % PALETTE.length];
      const boxHeight = folded ? TITLE * 2 : box.height;
      context.fillRect(box.x, box.y, box.width, boxHeight);
      context.strokeRect(box.x, box.y, box.width, boxHeight);
      if (scale > 0.04) {
        context.fillStyle = "#1f2937";
        context.fillText(`${folded ? "▸" : "▾"} ${layout.groups[g]} (${counts[g]})`, box.x + 8, box.y + 24);
      }
    });

    // Where an edge ends: at the node, or at its group's box when the group is folded.
    const anchor = (i: number, out: boolean): [number, number] => {
      const g = layout.groupIndex[i];
      if (collapsed.has(g)) {
        const box = layout.groupBoxes[g];
        return [out ? box.x + box.width : box.x, box.y + TITLE];
      }
      return [out ? layout.x[i] + w : layout.x[i], layout.y[i] + h / 2];
    };
    context.strokeStyle = "rgba(100,116,139,0.55)";
    context.beginPath();
    const curved = scale > 0.3;
    for (let j = 0; j < layout.edgeUpstream.length; j++) {
      const a = layout.edgeUpstream[j];
      const b = layout.edgeDownstream[j];
      if (collapsed.has(layout.groupIndex[a]) && layout.groupIndex[a] === layout.groupIndex[b]) continue;
      const [x0, y0] = anchor(a, true);
      const [x1, y1] = anchor(b, false);
      if ((x0 < left && x1 < left) || (x0 > right && x1 > right)) continue;
      if ((y0 < top && y1 < top) || (y0 > bottom && y1 > bottom)) continue;
      context.moveTo(x0, y0);
      if (curved) {
        const mid = (x0 + x1) / 2;
        context.bezierCurveTo(mid, y0, mid, y1, x1, y1);
      } else context.lineTo(x1, y1);
    }
    context.stroke();

    // Nodes, culled by column then row, filled one colour (group) at a time.
    const visible: number[] = [];
    const firstLayer = Math.max(0, Math.floor(left / pitch) - 1);
    const lastLayer = Math.min(byLayer.length - 1, Math.ceil(right / pitch));
    for (let layer = firstLayer; layer <= lastLayer; layer++) {
      for (const i of byLayer[layer] ?? []) {
        const y = layout.y[i];
        if (y + h < top || y > bottom || collapsed.has(layout.groupIndex[i])) continue;
        visible.push(i);
      }
    }
    const byColour = new Map<string, number[]>();
    for (const i of visible) {
      const colour = alarm.get(i) ?? PALETTE[layout.groupIndex[i] % PALETTE.length];
      let list = byColour.get(colour);
      if (!list) byColour.set(colour, (list = []));
      list.push(i);
    }
    for (const [colour, nodes] of byColour) {
      context.fillStyle = colour;
      for (const i of nodes) context.fillRect(layout.x[i], layout.y[i], w, h);
    }
    const domWillLabel = !moving.current && scale >= DOM_SCALE && visible.length <= DOM_LIMIT;
    if (scale > 0.3 && visible.length < 3000 && !domWillLabel) {
      context.font = "13px system-ui, sans-serif";
      context.fillStyle = "#ffffff";
      for (const i of visible) context.fillText(layout.keys[i].slice(-24), layout.x[i] + 8, layout.y[i] + 25, w - 16);
    }
    return visible;
  };

  // Zoomed out far enough that the whole graph fits a bitmap of CACHE_PIXELS, the scene is
  // painted once per zoom level and fold state, and a pan only moves that bitmap.
  const cache = useRef<{ canvas: HTMLCanvasElement; key: string } | null>(null);
  const moving = useRef(false);
  const settle = useRef(0);
  const settleSoon = () => {
    clearTimeout(settle.current);
    settle.current = window.setTimeout(() => {
      moving.current = false;
      schedule();
    }, 150);
  };

  const draw = () => {
    frame.current = 0;
    const element = canvas.current;
    const container = host.current;
    if (!element || !container) return;
    const started = performance.now();
    const ratio = window.devicePixelRatio || 1;
    const width = container.clientWidth;
    const height = container.clientHeight;
    if (element.width !== Math.round(width * ratio) || element.height !== Math.round(height * ratio)) {
      element.width = Math.round(width * ratio);
      element.height = Math.round(height * ratio);
    }
    const context = element.getContext("2d")!;
    const { scale, tx, ty } = view.current;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = "#f7f8fa";
    context.fillRect(0, 0, width, height);
    const left = -tx / scale;
    const top = -ty / scale;
    const right = (width - tx) / scale;
    const bottom = (height - ty) / scale;
    const pixelsWide = Math.ceil((layout.width + 2 * MARGIN) * scale * ratio);
    const pixelsHigh = Math.ceil((layout.height + 2 * MARGIN) * scale * ratio);
    let visible: number[];
    if (pixelsWide <= CACHE_PIXELS && pixelsHigh <= CACHE_PIXELS && scale < DOM_SCALE) {
      const key = `${scale}|${ratio}|${[...collapsed].join(",")}|${alarm.size}`;
      if (cache.current?.key !== key) {
        const bitmap = cache.current?.canvas ?? document.createElement("canvas");
        bitmap.width = pixelsWide;
        bitmap.height = pixelsHigh;
        const offscreen = bitmap.getContext("2d")!;
        offscreen.setTransform(ratio * scale, 0, 0, ratio * scale, ratio * scale * MARGIN, ratio * scale * MARGIN);
        paint(offscreen, scale, -MARGIN, -MARGIN, layout.width + MARGIN, layout.height + MARGIN);
        cache.current = { canvas: bitmap, key };
      }
      context.setTransform(1, 0, 0, 1, 0, 0);
      context.drawImage(cache.current.canvas, Math.round((tx - MARGIN * scale) * ratio), Math.round((ty - MARGIN * scale) * ratio));
      visible = [];
    } else {
      context.setTransform(ratio * scale, 0, 0, ratio * scale, ratio * tx, ratio * ty);
      visible = paint(context, scale, left, top, right, bottom);
    }
    // While the view moves the canvas draws the labels too; the DOM nodes (links, text one
    // can select) come back once it settles, so a pan never waits on React.
    const asDom = !moving.current && scale >= DOM_SCALE && visible.length <= DOM_LIMIT;
    if (domLayer.current) {
      domLayer.current.style.transform = `translate(${tx}px, ${ty}px) scale(${scale})`;
    }
    const wanted = asDom ? visible : [];
    setDomNodes((old) => (old.length === wanted.length && old.every((v, k) => v === wanted[k]) ? old : wanted));
    const stats = (window.__weirGraph ??= { frames: 0, lastFrameMs: 0, totalFrameMs: 0 });
    stats.frames += 1;
    stats.lastFrameMs = performance.now() - started;
    stats.totalFrameMs += stats.lastFrameMs;
    stats.view = view.current;
    if (stats.firstDrawMs === undefined) {
      stats.firstDrawMs = performance.now();
      performance.measure("graph-first-draw", { start: 0, end: stats.firstDrawMs });
    }
  };

  const schedule = () => {
    if (!frame.current) frame.current = requestAnimationFrame(draw);
  };

  // Fit the whole graph on first show (or centre the focused asset).
  useEffect(() => {
    const container = host.current;
    if (!container) return;
    const width = container.clientWidth;
    const height = container.clientHeight;
    const index = focus ? layout.keys.indexOf(focus) : -1;
    if (index >= 0) {
      const scale = 1;
      view.current = {
        scale,
        tx: width / 2 - (layout.x[index] + layout.nodeWidth / 2) * scale,
        ty: height / 2 - (layout.y[index] + layout.nodeHeight / 2) * scale,
      };
    } else {
      const scale = Math.min(1.2, Math.max(0.01, Math.min(width / layout.width, height / layout.height) * 0.95));
      view.current = { scale, tx: (width - layout.width * scale) / 2, ty: 8 };
    }
    draw();
    const observer = new ResizeObserver(schedule);
    observer.observe(container);
    return () => observer.disconnect();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [layout, focus]);

  useEffect(schedule, [collapsed, alarm]); // eslint-disable-line react-hooks/exhaustive-deps

  // Wheel zooms around the cursor; a drag pans; a click opens a node or folds a group.
  useEffect(() => {
    const container = host.current;
    if (!container) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const rect = container.getBoundingClientRect();
      const px = event.clientX - rect.left;
      const py = event.clientY - rect.top;
      const current = view.current;
      const scale = Math.min(4, Math.max(0.005, current.scale * Math.exp(-event.deltaY * 0.0015)));
      view.current = {
        scale,
        tx: px - ((px - current.tx) * scale) / current.scale,
        ty: py - ((py - current.ty) * scale) / current.scale,
      };
      moving.current = true;
      settleSoon();
      schedule();
    };
    container.addEventListener("wheel", onWheel, { passive: false });
    return () => container.removeEventListener("wheel", onWheel);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [layout, collapsed]);

  const drag = useRef<{ x: number; y: number; moved: number } | null>(null);
  // A drag pans wherever it starts, on a DOM node too; only a press that did not move is
  // a click (on a DOM node, its link's; elsewhere, the canvas hit test's).
  const onPointerDown = (event: React.PointerEvent) => {
    if (event.button !== 0) return;
    drag.current = { x: event.clientX, y: event.clientY, moved: 0 };
    if (!(event.target as HTMLElement).closest("a")) {
      try {
        (event.currentTarget as HTMLElement).setPointerCapture(event.pointerId);
      } catch {
        // not a pointer the browser tracks (a synthetic event): panning works without capture
      }
    }
  };
  const onPointerMove = (event: React.PointerEvent) => {
    const start = drag.current;
    if (!start) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    start.x = event.clientX;
    start.y = event.clientY;
    start.moved += Math.abs(dx) + Math.abs(dy);
    if (start.moved >= 5) moving.current = true;
    view.current = { ...view.current, tx: view.current.tx + dx, ty: view.current.ty + dy };
    schedule();
  };
  const dragged = useRef(false);
  const onPointerUp = (event: React.PointerEvent) => {
    const start = drag.current;
    drag.current = null;
    if (!start) return;
    dragged.current = start.moved >= 5;
    if (!dragged.current && !(event.target as HTMLElement).closest("a")) click(event);
    else if (moving.current) settleSoon();
  };
  const onClickCapture = (event: React.MouseEvent) => {
    if (dragged.current) {
      event.preventDefault();
      event.stopPropagation();
      dragged.current = false;
    }
  };

  const click = (event: React.PointerEvent) => {
    const rect = host.current!.getBoundingClientRect();
    const { scale, tx, ty } = view.current;
    const wx = (event.clientX - rect.left - tx) / scale;
    const wy = (event.clientY - rect.top - ty) / scale;
    const group = layout.groupBoxes.findIndex(
      (box) => wx >= box.x && wx <= box.x + box.width && wy >= box.y && wy <= box.y + TITLE,
    );
    if (group >= 0) {
      setCollapsed((old) => {
        const next = new Set(old);
        if (next.has(group)) next.delete(group);
        else next.add(group);
        return next;
      });
      return;
    }
    const nodes = byLayer[Math.floor(wx / pitch)] ?? [];
    let low = 0;
    let high = nodes.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const i = nodes[middle];
      if (wy < layout.y[i]) high = middle - 1;
      else if (wy > layout.y[i] + layout.nodeHeight) low = middle + 1;
      else {
        if (wx >= layout.x[i] && wx <= layout.x[i] + layout.nodeWidth && !collapsed.has(layout.groupIndex[i])) {
          onOpen(layout.keys[i]);
        }
        return;
      }
    }
  };

  return (
    <div
      ref={host}
      className="graph"
      data-testid="lineage-canvas-host"
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onClickCapture={onClickCapture}
    >
      <canvas ref={canvas} data-testid="lineage-canvas" />
      <div ref={domLayer} className="graph-dom">
        {domNodes.map((i) => (
          <GraphNode
            key={layout.keys[i]}
            name={layout.keys[i]}
            x={layout.x[i]}
            y={layout.y[i]}
            width={layout.nodeWidth}
            height={layout.nodeHeight}
            border={alarm.get(i)}
          />
        ))}
      </div>
    </div>
  );
}
