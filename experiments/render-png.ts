/**
 * Server-side PNGs of chart models: chart.js drawing on an @napi-rs/canvas (Skia) canvas, 1000×500,
 * animation off, in DejaVu Sans. The same model gives the same PNG bytes on a machine with the same
 * font files; another font (or none: Skia falls back) changes the text pixels, not the data.
 */
import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration } from 'chart.js';
import { chartConfig, orreryChartPlugins, type ChartModel } from './charts.js';

/** The PNG size in pixels: modest files, readable on a page. */
export const PNG_WIDTH = 1000;
export const PNG_HEIGHT = 500;

/** Debian's `fonts-dejavu-core`, present wherever Chromium is; named so text does not depend on a default. */
export const PNG_FONT = 'DejaVu Sans';

let registered = false;

/** The PNG of one chart. */
export function renderPng(model: ChartModel): Buffer {
  if (!registered) {
    Chart.register(...registerables);
    Chart.defaults.font.family = PNG_FONT;
    registered = true;
  }
  const canvas = createCanvas(PNG_WIDTH, PNG_HEIGHT);
  const config = { ...chartConfig(model, { responsive: false }), plugins: orreryChartPlugins() } as unknown as ChartConfiguration;
  const chart = new Chart(canvas.getContext('2d') as unknown as ConstructorParameters<typeof Chart>[0], config);
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}
