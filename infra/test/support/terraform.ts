import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';

/** A parsed HCL body: attributes are values, nested blocks are arrays of bodies. */
export type Body = Record<string, unknown>;

export const TERRAFORM_DIR = fileURLToPath(new URL('../../terraform/', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Every `.tf` file of the module, parsed and indexed by block kind. */
export interface TerraformModule {
  files: string[];
  /** type -> name -> body */
  resources: Record<string, Record<string, Body>>;
  data: Record<string, Record<string, Body>>;
  variables: Record<string, Body>;
  outputs: Record<string, Body>;
  locals: Record<string, unknown>;
  terraform: Body[];
  /** Raw source per file name, for checks that look at expressions. */
  sources: Record<string, string>;
}

function firstBody(v: unknown): Body {
  if (Array.isArray(v) && v.length === 1) return v[0] as Body;
  throw new Error(`expected exactly one block, got ${JSON.stringify(v)}`);
}

/** Parses the Terraform module under infra/terraform with the HCL parser Terraform uses. */
export async function loadTerraform(dir = TERRAFORM_DIR): Promise<TerraformModule> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.tf')).sort();
  const mod: TerraformModule = {
    files,
    resources: {},
    data: {},
    variables: {},
    outputs: {},
    locals: {},
    terraform: [],
    sources: {},
  };
  for (const file of files) {
    const src = await readFile(join(dir, file), 'utf8');
    mod.sources[file] = src;
    const json = (await parse(file, src)) as Record<string, unknown>;
    for (const [kind, value] of Object.entries(json)) {
      switch (kind) {
        case 'resource':
        case 'data': {
          const target = kind === 'resource' ? mod.resources : mod.data;
          for (const [type, byName] of Object.entries(value as Record<string, unknown>)) {
            target[type] ??= {};
            for (const [name, bodies] of Object.entries(byName as Record<string, unknown>)) {
              if (target[type][name]) throw new Error(`duplicate ${kind} ${type}.${name}`);
              target[type][name] = firstBody(bodies);
            }
          }
          break;
        }
        case 'variable':
        case 'output': {
          const target = kind === 'variable' ? mod.variables : mod.outputs;
          for (const [name, bodies] of Object.entries(value as Record<string, unknown>)) {
            if (target[name]) throw new Error(`duplicate ${kind} ${name}`);
            target[name] = firstBody(bodies);
          }
          break;
        }
        case 'locals':
          for (const block of value as Body[]) {
            for (const [name, v] of Object.entries(block)) {
              if (name in mod.locals) throw new Error(`duplicate local ${name}`);
              mod.locals[name] = v;
            }
          }
          break;
        case 'terraform':
          mod.terraform.push(...(value as Body[]));
          break;
        case 'provider':
          break;
        default:
          throw new Error(`unexpected top-level block ${kind} in ${file}`);
      }
    }
  }
  return mod;
}

/** The resource `type.name`, or a failing error naming it. */
export function resource(mod: TerraformModule, type: string, name: string): Body {
  const body = mod.resources[type]?.[name];
  if (!body) throw new Error(`missing resource ${type}.${name}`);
  return body;
}

/** All resources of one type. */
export function resourcesOf(mod: TerraformModule, type: string): Body[] {
  return Object.values(mod.resources[type] ?? {});
}

/** The single nested block `name` of a body (blocks parse as one-element arrays). */
export function block(body: Body, name: string): Body {
  const v = body[name];
  if (!Array.isArray(v) || v.length === 0) throw new Error(`missing block ${name}`);
  return v[0] as Body;
}

/** All nested blocks `name` of a body, empty when absent. */
export function blocks(body: Body, name: string): Body[] {
  const v = body[name];
  return Array.isArray(v) ? (v as Body[]) : [];
}

/** Dynamic blocks `name` (their `content` bodies and `for_each` expressions). */
export function dynamicBlocks(body: Body, name: string): { forEach: string; content: Body }[] {
  const dyn = body.dynamic as Record<string, Body[]> | undefined;
  return (dyn?.[name] ?? []).map((d) => ({
    forEach: String(d.for_each),
    content: block(d, 'content'),
  }));
}

/**
 * Resolves `${local.x}` to the local's literal value, so a resource attribute
 * can be compared with a number from the apps. Other expressions stay as they are.
 */
export function resolve(mod: TerraformModule, value: unknown): unknown {
  if (typeof value === 'string') {
    const m = /^\$\{local\.([A-Za-z0-9_]+)\}$/.exec(value);
    if (m) {
      const name = m[1]!;
      if (!(name in mod.locals)) throw new Error(`undefined local ${name}`);
      return resolve(mod, mod.locals[name]);
    }
  }
  if (Array.isArray(value)) return value.map((v) => resolve(mod, v));
  return value;
}

/** A local whose value is an object literal (HCL maps parse as objects). */
export function localMap(mod: TerraformModule, name: string): Record<string, unknown> {
  const v = mod.locals[name];
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new Error(`local ${name} is not a map literal: ${JSON.stringify(v)}`);
  }
  return v as Record<string, unknown>;
}
