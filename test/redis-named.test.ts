/**
 * Every long-running role says at start-up which Redis it uses: the address with the password
 * masked, the server's version, and how many keys already live under its prefix (counted, bounded).
 */
import { describe, expect, it } from 'vitest';
import { identify, KEY_COUNT_CAP, keysText } from '../src/redis/identity.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { deletePrefix, newPrefix, privateRedis, redisUrl, testRedis } from './helpers/redis.js';

const scene = useProcessScenes();
// Shorter than the logger's secret scrubbing looks for: only the address's own masking can hide it.
const PASSWORD = 'zQ7';

describe('the Redis a role uses', () => {
  it.each(['producer', 'worker', 'all'])(
    '%s logs the address without its password, the version and the keys under the prefix',
    async (role) => {
      const r = await privateRedis({ appendonly: false, args: ['--requirepass', PASSWORD] });
      scene.onCleanup(() => r.dispose());
      const u = new URL(r.redis.url);
      u.password = PASSWORD;
      const s = scene({}, u.toString());
      for (let i = 0; i < 3; i++) await s.conn.set(`${s.prefix}:left-behind:${i}`, 'x');
      const p = s.start([role]);
      const line = await p.waitForLog((l) => typeof l.redis === 'string' && typeof l.redisVersion === 'string', 'the Redis line');
      expect(line.redis).toBe(`redis://:***@127.0.0.1:${u.port}`);
      expect(line.redisVersion).toMatch(/^\d+\.\d+\.\d+/);
      expect(line.prefix).toBe(s.prefix);
      expect(Number(line.keysUnderPrefix)).toBeGreaterThanOrEqual(3);
      expect(line.msg).toContain(`keys under prefix "${s.prefix}"`);
      expect(p.stdout + p.stderr).not.toContain(PASSWORD);
    },
  );

  it('stops counting at the cap and says "over" it', async () => {
    const conn = testRedis();
    const prefix = newPrefix();
    try {
      const pipe = conn.pipeline();
      for (let i = 0; i <= KEY_COUNT_CAP; i++) pipe.set(`${prefix}:k${i}`, '1');
      await pipe.exec();
      const id = await identify(conn, { url: redisUrl(), cluster: false }, prefix);
      expect(id).toMatchObject({ keys: KEY_COUNT_CAP, capped: true });
      expect(keysText(id)).toBe(`over ${KEY_COUNT_CAP}`);
      const none = await identify(conn, { url: redisUrl(), cluster: false }, newPrefix());
      expect(keysText(none)).toBe('0');
    } finally {
      await deletePrefix(conn, prefix);
      conn.disconnect();
    }
  });
});
