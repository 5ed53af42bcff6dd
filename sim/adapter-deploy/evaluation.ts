/**
 * One validator's evaluation of one version, shared by both strategies' validators: download the
 * artifact, hash what arrived and compare with the digest it was announced under (a mismatch is
 * refused and downloaded again, up to `downloadAttemptsMax` times, then voted fail), run the suite on
 * the verified bytes, and hold the verdict for the seeded validation time.
 */
import type { ProcessId } from '../../core/ids.js';
import { EVIDENCE_CHARS_MAX } from '../../apps/adapter-register/register.js';
import type { StreamVersion } from './artifacts.js';
import type { DeployWorld } from './world.js';

/** What to do after a download finished. */
export type AfterDownload =
  | { readonly kind: 'download-again'; readonly atMs: number }
  | { readonly kind: 'verdict'; readonly atMs: number; readonly pass: boolean; readonly evidence: string };

export class Evaluation {
  downloads = 0;
  private downloadStartMs = 0;

  constructor(
    private readonly world: DeployWorld,
    readonly validator: ProcessId,
    private readonly region: string,
    readonly version: StreamVersion,
    readonly seenMs: number,
  ) {}

  /** Starts a download at `nowMs`; returns when it completes. */
  startDownload(nowMs: number): number {
    this.downloads++;
    this.downloadStartMs = nowMs;
    return nowMs + this.world.store.transferMs(this.region, this.version.digest);
  }

  /** The download started last has completed at `nowMs`. */
  downloaded(nowMs: number): AfterDownload {
    const world = this.world;
    const { bytes } = world.download(`validator/${this.validator}`, this.version.digest, this.downloads, this.downloadStartMs);
    const digest = world.store.digestOf(bytes);
    if (digest !== this.version.digest) {
      world.refusedDownloads++;
      if (this.downloads < world.settings.downloadAttemptsMax) return { kind: 'download-again', atMs: this.startDownload(nowMs) };
      return {
        kind: 'verdict',
        atMs: nowMs,
        pass: false,
        evidence: `${this.downloads} downloads never matched digest ${this.version.digest.slice(0, 12)} (last got ${digest.slice(0, 12)})`,
      };
    }
    const verdict = world.suite.validate(bytes);
    return {
      kind: 'verdict',
      atMs: nowMs + world.validationMs(this.validator, this.version.digest),
      pass: verdict.pass,
      evidence: verdict.evidence.slice(0, EVIDENCE_CHARS_MAX),
    };
  }

  /** Records the verdict that left at `nowMs`. */
  record(pass: boolean, evidence: string, nowMs: number): void {
    this.world.validations.push({
      validator: this.validator,
      index: this.version.index,
      seenMs: this.seenMs,
      verdictMs: nowMs,
      pass,
      downloads: this.downloads,
      evidence,
    });
  }
}
