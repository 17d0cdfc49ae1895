// A minimal HTTP(S) client for etcd's v2 keys API: TLS with CA and client certificates, basic auth,
// abortable long polls. node:http is used instead of fetch because fetch cannot take a CA or client cert here.
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export interface TlsFiles {
  caCertFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpOptions {
  method?: 'GET' | 'PUT' | 'DELETE';
  /** application/x-www-form-urlencoded body (etcd v2 takes value=, ttl=, ... this way). */
  form?: Record<string, string>;
  signal?: AbortSignal;
  /** Abort if no complete response after this long (0 = none, for long polls). */
  timeoutMs?: number;
}

export class HttpClient {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 8 });
  private readonly httpsAgent: HttpsAgent;
  private readonly authHeader: string | undefined;

  constructor(tls: TlsFiles = {}, auth?: { username: string; password: string }) {
    // Files are read once here; a missing file is a configuration error reported by src/config/datastore.ts already.
    this.httpsAgent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 8,
      ...(tls.caCertFile !== undefined ? { ca: readFileSync(tls.caCertFile) } : {}),
      ...(tls.certFile !== undefined ? { cert: readFileSync(tls.certFile) } : {}),
      ...(tls.keyFile !== undefined ? { key: readFileSync(tls.keyFile) } : {}),
    });
    this.authHeader = auth !== undefined ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : undefined;
  }

  request(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const u = new URL(url);
      const https = u.protocol === 'https:';
      const body = options.form !== undefined ? new URLSearchParams(options.form).toString() : undefined;
      const headers: Record<string, string> = {};
      if (this.authHeader !== undefined) headers.authorization = this.authHeader;
      if (body !== undefined) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const req = (https ? httpsRequest : httpRequest)(u, {
        method: options.method ?? 'GET',
        headers,
        agent: https ? this.httpsAgent : this.httpAgent,
        // SNI carries host names only (RFC 6066); etcd endpoints are usually IP addresses.
        ...(https && isIP(u.hostname.replace(/^\[|\]$/g, '')) !== 0 ? { servername: '' } : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      });
      let timer: NodeJS.Timeout | undefined;
      if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
        timer = setTimeout(() => req.destroy(new Error(`no answer from ${u.host} within ${options.timeoutMs} ms`)), options.timeoutMs);
      }
      req.on('error', (e) => {
        if (timer) clearTimeout(timer);
        reject(e);
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let ended = false;
        // A server that dies in the middle of a long poll closes the socket without ending the response.
        res.on('close', () => {
          if (!ended) {
            if (timer) clearTimeout(timer);
            reject(new Error(`connection to ${u.host} closed before the response was complete`));
          }
        });
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => {
          if (timer) clearTimeout(timer);
          reject(e);
        });
        res.on('end', () => {
          ended = true;
          if (timer) clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
