// A RunMat event is one UDP datagram of up to 16 KiB, so it crosses the
// internet as IP fragments, and only the first fragment carries the UDP
// header. Every hop on the UDP path must deliver the later fragments too.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HEALTH_PORT, MAX_EVENT_BYTES, UDP_PORT } from '@runmat-telemetry/schema';
import { FORWARDER_ENV } from '@runmat-telemetry/udp-forwarder/config';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  block,
  blocks,
  loadTerraform,
  localMap,
  resolve,
  resource,
  resourcesOf,
  TERRAFORM_DIR,
  type TerraformModule,
} from './support/terraform.ts';
import { evaluate, requireTerraform } from './support/terraform-console.ts';

const KIB = 1024;
/** docs/architecture.md, Sizes and bounds: events up to 16 KiB (`MAX_EVENT_BYTES`). */
const CONTRACT_MAX_DATAGRAM = 16 * KIB;
/**
 * The kernel charges a socket each fragment's whole buffer, not its payload:
 * a 16 KiB datagram in ~12 fragments of ~1.4 KiB costs at least twice its size.
 */
const TRUESIZE_FACTOR = 2;

let tf: TerraformModule;
let template: string;
let userData: string;
beforeAll(async () => {
  tf = await loadTerraform();
  template = await readFile(join(TERRAFORM_DIR, 'cloud-init/forwarder.yaml'), 'utf8');
  const metadata = resource(tf, 'google_compute_instance_template', 'forwarder').metadata as Record<
    string,
    string
  >;
  userData = metadata['user-data']!;
});

/** The expression the templatefile() call passes for `name`. */
function templateArg(name: string): string {
  const m = new RegExp(`^\\s*${name}\\s*=\\s*(.+)$`, 'm').exec(userData);
  if (!m) throw new Error(`templatefile() passes no ${name}`);
  return m[1]!.trim();
}

/** The `sysctl -w key=value` lines cloud-init runs, by key. */
function sysctls(): Record<string, string> {
  const doc = parseYaml(template) as { runcmd: string[] };
  const out: Record<string, string> = {};
  for (const cmd of doc.runcmd) {
    const m = /^sysctl -w ([a-z0-9_.]+)=(\S+)$/.exec(cmd);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

describe('datagram size the UDP path is built for', () => {
  it('is the 16 KiB of the contract, and no smaller than what the schema accepts', () => {
    expect(tf.locals.max_datagram_bytes).toBe(CONTRACT_MAX_DATAGRAM);
    expect(MAX_EVENT_BYTES).toBeLessThanOrEqual(tf.locals.max_datagram_bytes as number);
  });
});

describe('external passthrough load balancer (Google: fragmented UDP)', () => {
  it('has one UDP forwarding rule on the address, forwarding all ports', () => {
    const rule = resource(tf, 'google_compute_forwarding_rule', 'forwarder');
    expect(rule.ip_protocol).toBe('UDP');
    expect(rule.all_ports).toBe(true);
    // ports / port_range would drop fragments that have no destination port.
    expect(rule).not.toHaveProperty('ports');
    expect(rule).not.toHaveProperty('port_range');
    const onAddress = resourcesOf(tf, 'google_compute_forwarding_rule').filter((r) =>
      String(r.ip_address).includes('google_compute_address.forwarder'),
    );
    expect(onAddress).toEqual([rule]);
  });

  it('picks the backend without ports and tracks sessions by that hash', () => {
    const backend = resource(tf, 'google_compute_region_backend_service', 'forwarder');
    // NONE / CLIENT_IP_PORT_PROTO hash the ports, which later fragments lack.
    expect(['CLIENT_IP', 'CLIENT_IP_PROTO']).toContain(backend.session_affinity);
    expect(block(backend, 'connection_tracking_policy').tracking_mode).toBe('PER_SESSION');
  });
});

describe('VPC firewall', () => {
  it('admits UDP fragments to the forwarders: the internet-facing rule names no port', () => {
    const udp = resource(tf, 'google_compute_firewall', 'forwarder_udp');
    expect(udp.direction).toBe('INGRESS');
    expect(udp.source_ranges).toEqual(['0.0.0.0/0']);
    expect(udp.target_tags).toEqual(['udp-forwarder']);
    expect(blocks(udp, 'allow')).toEqual([{ protocol: 'udp' }]);
    expect(blocks(udp, 'deny')).toEqual([]);
    // No rule denies UDP to the forwarders ahead of it.
    for (const r of resourcesOf(tf, 'google_compute_firewall')) {
      for (const d of blocks(r, 'deny')) expect(['udp', 'all']).not.toContain(d.protocol);
    }
  });
});

describe('forwarder VM (cloud-init)', () => {
  it('opens the forwarder port in the host firewall, which sees reassembled datagrams', () => {
    // Container-Optimized OS drops inbound traffic but SSH, and Docker opens
    // nothing for --network host: without these rules no datagram arrives.
    const doc = parseYaml(template) as { write_files: { path: string; content: string }[] };
    const unit = doc.write_files.find(
      (f) => f.path === '/etc/systemd/system/config-firewall.service',
    );
    expect(unit).toBeDefined();
    const rules = unit!.content.split('\n').filter((l) => l.startsWith('ExecStart='));
    expect(rules).toContain(
      `ExecStart=/sbin/iptables -w -A INPUT -p udp --dport \${udp_port} -j ACCEPT`,
    );
    expect(rules).toContain(
      `ExecStart=/sbin/iptables -w -A INPUT -p tcp --dport \${health_port} -s \${probe_ranges} -j ACCEPT`,
    );
    expect(unit!.content).toContain('Type=oneshot');
    expect(resolve(tf, `\${${templateArg('udp_port')}}`)).toBe(UDP_PORT);
    expect(resolve(tf, `\${${templateArg('health_port')}}`)).toBe(HEALTH_PORT);
    expect(templateArg('probe_ranges')).toBe('join(",", local.health_probe_ranges)');

    const service = doc.write_files.find(
      (f) => f.path === '/etc/systemd/system/udp-forwarder.service',
    )!;
    expect(service.content).toMatch(/^Requires=.*\bconfig-firewall\.service\b/m);
    expect(service.content).toMatch(/^After=.*\bconfig-firewall\.service\b/m);
    const runcmd = (parseYaml(template) as { runcmd: string[] }).runcmd;
    expect(runcmd.indexOf('systemctl start config-firewall.service')).toBeGreaterThan(-1);
    expect(runcmd.indexOf('systemctl start config-firewall.service')).toBeLessThan(
      runcmd.indexOf('systemctl start udp-forwarder.service'),
    );
  });

  it('lets the kernel grant the receive buffer the forwarder asks for', () => {
    const env = localMap(tf, 'forwarder_env');
    expect(env[FORWARDER_ENV.recvBufferBytes]).toBe(`\${var.forwarder_recv_buffer_bytes}`);
    expect(sysctls()['net.core.rmem_max']).toBe(`\${rmem_max}`);
    expect(templateArg('rmem_max')).toBe('var.forwarder_recv_buffer_bytes');
  });

  it('sizes that buffer for a thousand fragmented 16 KiB datagrams by default', () => {
    const bytes = tf.variables.forwarder_recv_buffer_bytes!.default as number;
    expect(bytes).toBeGreaterThanOrEqual(1000 * CONTRACT_MAX_DATAGRAM * TRUESIZE_FACTOR);
    // The forwarder refuses more than 1 GiB.
    expect(bytes).toBeLessThanOrEqual(1024 * 1024 * KIB);
  });

  it('gives IP reassembly room for hundreds of 16 KiB datagrams at once', () => {
    const s = sysctls();
    const high = Number(s['net.ipv4.ipfrag_high_thresh']);
    expect(high).toBeGreaterThanOrEqual(500 * CONTRACT_MAX_DATAGRAM * TRUESIZE_FACTOR);
    const time = Number(s['net.ipv4.ipfrag_time']);
    expect(time).toBeGreaterThan(0);
    expect(time).toBeLessThan(30);
  });
});

describe('forwarder_recv_buffer_bytes validation (terraform console)', () => {
  beforeAll(requireTerraform);
  it('accepts the default and refuses a buffer smaller than 64 datagrams', async () => {
    expect(await evaluate('var.forwarder_recv_buffer_bytes')).toEqual({
      ok: true,
      value: 32 * 1024 * KIB,
    });
    const small = await evaluate('var.forwarder_recv_buffer_bytes', {
      forwarder_recv_buffer_bytes: String(64 * KIB),
    });
    expect(small.ok).toBe(false);
    expect(small.ok ? '' : small.error).toContain('forwarder_recv_buffer_bytes must be');
  });
});
