/**
 * Where the sample file is read at start and written while serving: a local
 * file, replaced atomically (a temporary file in the same directory, then a
 * rename, so a reader never sees half a sample), or one Cloud Storage
 * object, written in a single request (`resumable: false`: a small JSON
 * document, and a resumable upload would cost a session per write). The
 * Cloud Storage SDK is imported only when a gs:// URI is configured, as
 * model/gcs-download.ts does.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReplaySampleLocation } from './replay-sample-location.js';

export interface ReplaySampleStore {
  /** For logs: the path or gs:// URI. */
  readonly uri: string;
  /** The file's text, or undefined when there is none yet. */
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

/** The parts of a Cloud Storage bucket the sample uses (`Bucket` of @google-cloud/storage). */
export interface SampleBucket {
  file(name: string): SampleObject;
}

export interface SampleObject {
  save(data: string, options: { resumable: boolean; contentType: string }): Promise<unknown>;
  download(): Promise<[Buffer, ...unknown[]]>;
}

export type OpenSampleBucket = (name: string) => Promise<SampleBucket>;

const openGcsBucket: OpenSampleBucket = async (name) => {
  const { Storage } = await import('@google-cloud/storage');
  return new Storage().bucket(name);
};

export function openReplaySampleStore(
  location: ReplaySampleLocation,
  openBucket: OpenSampleBucket = openGcsBucket,
): ReplaySampleStore {
  return location.kind === 'local'
    ? new LocalSampleFile(location.path)
    : new GcsSampleObject(location.bucket, location.name, openBucket);
}

class LocalSampleFile implements ReplaySampleStore {
  constructor(readonly uri: string) {}

  async read(): Promise<string | undefined> {
    try {
      return await readFile(this.uri, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async write(text: string): Promise<void> {
    await mkdir(path.dirname(this.uri), { recursive: true });
    // Same directory, so the rename stays on one file system and is atomic.
    const temporary = `${this.uri}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temporary, text, 'utf8');
      await rename(temporary, this.uri);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}

class GcsSampleObject implements ReplaySampleStore {
  readonly uri: string;
  private bucket: Promise<SampleBucket> | undefined;

  constructor(
    private readonly bucketName: string,
    private readonly name: string,
    private readonly openBucket: OpenSampleBucket,
  ) {
    this.uri = `gs://${bucketName}/${name}`;
  }

  async read(): Promise<string | undefined> {
    try {
      const [data] = await (await this.object()).download();
      return data.toString('utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return undefined;
      throw error;
    }
  }

  async write(text: string): Promise<void> {
    await (await this.object()).save(text, { resumable: false, contentType: 'application/json' });
  }

  private async object(): Promise<SampleObject> {
    // A failed open is tried again at the next write, not remembered.
    this.bucket ??= this.openBucket(this.bucketName).catch((error: unknown) => {
      this.bucket = undefined;
      throw error;
    });
    return (await this.bucket).file(this.name);
  }
}
