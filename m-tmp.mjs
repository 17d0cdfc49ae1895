import { createRequire } from "node:module"; const require = createRequire(import.meta.url);
for (const m of process.argv.slice(2)) if (m !== 'none') await import(m);
setTimeout(() => { const u = process.memoryUsage(); const s=require('fs').readFileSync('/proc/self/status','utf8'); console.log(process.argv.slice(2).join(','), Math.round(u.rss/1024), 'anon', s.match(/RssAnon:\s+(\d+)/)[1], 'file', s.match(/RssFile:\s+(\d+)/)[1], Math.round(u.heapTotal/1024), Math.round(u.heapUsed/1024)); }, 1000);
