'use strict';
// Alibaba Cloud's official TypeScript SDKs (the @alicloud packages, unchanged)
// against `ramstate emulator serve`: the same kind of sequence as conformance.py,
// through a second, independent implementation of the signers and models.
//
// Each signing style gets a fresh emulator seeded with the demo account:
//   v3   @alicloud/openapi-client's default, ACS3-HMAC-SHA256
//   v2   signatureAlgorithm 'v2' (RPC style, HMAC-SHA1 query signature)
//   sm3  signatureAlgorithm 'ACS3-HMAC-SM3'
//
// Every response body is checked against the SDK model's names() and types():
// no field the model does not know, and the JSON type the model declares.
// Prints `N passed, M failed` last; exits 1 when anything failed.
//
// Usage: node conformance.js --ramstate <binary> --seed <demo-account.yaml>

const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const { Config } = require('@alicloud/openapi-client');
const Ram = require('@alicloud/ram20150501');
const Ims = require('@alicloud/ims20190815');
const Sts = require('@alicloud/sts20150401');
const Rm = require('@alicloud/resourcemanager20200331');

// ------------------------------------------------------------ bookkeeping

class Failure extends Error {}

const passed = [];
const failed = [];

async function check(name, fn) {
  try {
    await fn();
    passed.push(name);
    console.log(`ok   ${name}`);
  } catch (e) {
    failed.push(name);
    console.log(`FAIL ${name}: ${e instanceof Failure ? e.message : e.stack}`);
  }
}

function expect(cond, what) {
  if (!cond) throw new Failure(what);
}

function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Failure(`${what}: expected ${b}, got ${a}`);
}

async function errorOf(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Failure('the call succeeded but an error was expected');
}

async function expectError(fn, code, status) {
  const e = await errorOf(fn);
  equal(e.code, code, `error code (${e.message})`);
  equal(e.statusCode, status, `HTTP status of ${code}`);
  return e;
}

// ----------------------------------------------------- model conformance

function jsonType(v) {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

// Documented fields that the newest TypeScript models lack: the API grew after
// @alicloud/ims20190815 2.3.2 (the Python models, 3.5.0, know them).
const NEWER_THAN_THE_MODELS = new Set([
  'GetAccountSummary.SummaryMap.AuthorizedClientPerUserQuota',
  'GetAccountSummary.SummaryMap.ServiceCredentialsPerUserPerServiceQuota',
]);

/** Problems of `raw` (a JSON body) against model class `cls`. */
function conformance(cls, raw, where, problems) {
  if (jsonType(raw) !== 'object') {
    problems.push(`${where}: expected an object, got ${jsonType(raw)}`);
    return;
  }
  const names = cls.names();
  const types = cls.types();
  const byWire = {};
  for (const [field, wire] of Object.entries(names)) byWire[wire] = field;
  for (const [wire, value] of Object.entries(raw)) {
    const field = byWire[wire];
    if (field === undefined) {
      if (NEWER_THAN_THE_MODELS.has(`${where}.${wire}`)) continue;
      problems.push(`${where}.${wire}: a field the SDK model does not know`);
      continue;
    }
    if (value === null || value === undefined) continue;
    checkType(types[field], value, `${where}.${wire}`, problems);
  }
}

function checkType(type, value, where, problems) {
  if (typeof type === 'string') {
    if (['any', 'map', 'Readable', 'Buffer'].includes(type)) return;
    if (jsonType(value) !== type) {
      problems.push(`${where}: expected ${type}, got ${JSON.stringify(value)}`);
    }
  } else if (type && type.type === 'array') {
    if (!Array.isArray(value)) {
      problems.push(`${where}: expected an array, got ${jsonType(value)}`);
      return;
    }
    value.forEach((item, i) => checkType(type.itemType, item, `${where}[${i}]`, problems));
  } else if (type && type.type === 'map') {
    if (jsonType(value) !== 'object') problems.push(`${where}: expected an object`);
  } else if (typeof type === 'function' && typeof type.names === 'function') {
    conformance(type, value, where, problems);
  }
}

// ---------------------------------------------------------------- emulator

function startEmulator(binary, seed) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['emulator', 'serve', '--seed', seed], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let buffer = '';
    proc.stdout.on('data', (chunk) => {
      buffer += chunk;
      const line = buffer.split('\n')[0];
      if (buffer.includes('\n')) {
        if (!line.startsWith('http://')) reject(new Error(`no URL from the emulator: ${line}`));
        // @alicloud/openapi-client takes host[:port] as endpoint and signs it as Host.
        resolve({ host: line.split('://')[1].replace(/\/$/, ''), stop: () => proc.kill() });
      }
    });
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`the emulator exited (${code})`)));
  });
}

/** The root key of a seed file (the `emulator.root_access_key` block). */
function rootKey(seedText) {
  const m = seedText.match(/root_access_key:\s*\n\s*id:\s*(\S+)\s*\n\s*secret:\s*(\S+)/);
  if (!m) throw new Error('the seed names no emulator.root_access_key');
  return { id: m[1], secret: m[2] };
}

// ----------------------------------------------------------------- clients

const MODELS = { ram: Ram, ims: Ims, sts: Sts, rm: Rm };

class Clients {
  constructor(host, style, id, secret, token) {
    const options = { endpoint: host, protocol: 'http', readTimeout: 10000, connectTimeout: 5000 };
    if (id) Object.assign(options, { accessKeyId: id, accessKeySecret: secret, securityToken: token });
    if (style === 'v2') options.signatureAlgorithm = 'v2';
    if (style === 'sm3') options.signatureAlgorithm = 'ACS3-HMAC-SM3';
    this.last = {};
    for (const [name, mod] of Object.entries(MODELS)) {
      const client = new mod.default(new Config(options));
      for (const send of ['callApi', 'doRPCRequest']) {
        const original = client[send].bind(client);
        client[send] = async (...args) => {
          const out = await original(...args);
          this.last[name] = out.body;
          return out;
        };
      }
      this[name] = client;
    }
  }

  /** Calls `service` `Action` with wire-named parameters; checks the body; returns it typed. */
  async call(service, action, params = {}) {
    const mod = MODELS[service];
    const method = action[0].toLowerCase() + action.slice(1);
    const client = this[service];
    if (typeof client[method] !== 'function') throw new Failure(`no ${service} method ${method}`);
    const Request = mod[`${action}Request`];
    let response;
    if (Request) {
      const fields = {};
      const wire = Request.names();
      for (const [field, name] of Object.entries(wire)) {
        if (params[name] !== undefined) fields[field] = params[name];
      }
      for (const name of Object.keys(params)) {
        if (!Object.values(wire).includes(name)) throw new Failure(`${action} has no parameter ${name}`);
      }
      response = await client[method](new Request(fields));
    } else {
      response = await client[method]();
    }
    const problems = [];
    conformance(mod[`${action}ResponseBody`], this.last[service], `${action}`, problems);
    if (problems.length) throw new Failure(problems.join('; '));
    expect(typeof response.body.requestId === 'string' && response.body.requestId, 'RequestId');
    return response.body;
  }
}

// ---------------------------------------------------------------- scenario

function policyDocument(n) {
  const statements = [];
  for (let i = 0; i < n; i++) {
    statements.push({ Effect: 'Allow', Action: ['oss:GetObject'], Resource: [`acs:oss:*:*:ts-bucket-${i}/*`] });
  }
  return JSON.stringify({ Version: '1', Statement: statements });
}

async function scenario(style, binary, seedPath, seedText) {
  const emu = await startEmulator(binary, seedPath);
  const t = (name) => `[ts ${style}] ${name}`;
  try {
    const root = rootKey(seedText);
    const account = (seedText.match(/account:\s*\n\s*id:\s*"?(\d+)"?/) || [])[1];
    const domain = (seedText.match(/default_domain:\s*(\S+)/) || [])[1];
    const c = new Clients(emu.host, style, root.id, root.secret);
    const user = `ts-${style}-user`;
    const group = `ts-${style}-group`;
    const policy = `ts-${style}-policy`;
    const role = `ts-${style}-role`;
    let key;

    await check(t('sts GetCallerIdentity'), async () => {
      const b = await c.call('sts', 'GetCallerIdentity');
      equal([b.accountId, b.identityType, b.arn], [account, 'Account', `acs:ram::${account}:root`], 'identity');
    });
    await check(t('ram CreateUser, GetUser, ListUsers by pages'), async () => {
      const made = await c.call('ram', 'CreateUser', { UserName: user, DisplayName: 'TS SDK', Comments: '中文 a+b ~*' });
      equal(made.user.userName, user, 'User.UserName');
      equal((await c.call('ram', 'GetUser', { UserName: user })).user.comments, '中文 a+b ~*', 'User.Comments');
      const names = [];
      let marker;
      for (let page = 0; page < 20; page++) {
        const b = await c.call('ram', 'ListUsers', { MaxItems: 2, Marker: marker });
        names.push(...b.users.user.map((u) => u.userName));
        if (!b.isTruncated) break;
        marker = b.marker;
      }
      equal(names.slice().sort(), ['alice', 'bob', 'ci-bot', 'contractor-2023', user].sort(), 'every user, once');
    });
    await check(t('ram CreateAccessKey; the new key signs; Inactive refuses it; DeleteAccessKey'), async () => {
      key = (await c.call('ram', 'CreateAccessKey', { UserName: user })).accessKey;
      const u = new Clients(emu.host, style, key.accessKeyId, key.accessKeySecret);
      equal((await u.call('sts', 'GetCallerIdentity')).arn, `acs:ram::${account}:user/${user}`, 'Arn');
      await c.call('ram', 'UpdateAccessKey', { UserName: user, UserAccessKeyId: key.accessKeyId, Status: 'Inactive' });
      await expectError(() => u.sts.getCallerIdentity(), 'InvalidAccessKeyId.Inactive', 400);
      await expectError(() => c.call('ram', 'DeleteUser', { UserName: user }), 'DeleteConflict.User.AccessKey', 409);
      await c.call('ram', 'DeleteAccessKey', { UserName: user, UserAccessKeyId: key.accessKeyId });
    });
    await check(t('ram groups: CreateGroup, AddUserToGroup, ListGroupsForUser, conflicts'), async () => {
      await c.call('ram', 'CreateGroup', { GroupName: group });
      await c.call('ram', 'AddUserToGroup', { GroupName: group, UserName: user });
      const b = await c.call('ram', 'ListGroupsForUser', { UserName: user });
      equal(b.groups.group.map((g) => g.groupName), [group], 'ListGroupsForUser');
      await expectError(() => c.call('ram', 'DeleteGroup', { GroupName: group }), 'DeleteConflict.Group.User', 409);
    });
    await check(t('ram policies: long CreatePolicy, versions, attach, entities, conflicts, delete'), async () => {
      const doc = policyDocument(55);
      expect(doc.length > 4000, `a long document (${doc.length})`);
      equal((await c.call('ram', 'CreatePolicy', { PolicyName: policy, PolicyDocument: doc })).policy.defaultVersion, 'v1', 'DefaultVersion');
      const v = await c.call('ram', 'CreatePolicyVersion', { PolicyName: policy, PolicyDocument: policyDocument(1), SetAsDefault: true });
      equal([v.policyVersion.versionId, v.policyVersion.isDefaultVersion], ['v2', true], 'PolicyVersion');
      const vs = await c.call('ram', 'ListPolicyVersions', { PolicyName: policy, PolicyType: 'Custom' });
      equal(vs.policyVersions.policyVersion.map((x) => [x.versionId, x.isDefaultVersion]).sort(), [['v1', false], ['v2', true]], 'versions');
      await c.call('ram', 'AttachPolicyToUser', { PolicyName: policy, PolicyType: 'Custom', UserName: user });
      const e = await c.call('ram', 'ListEntitiesForPolicy', { PolicyName: policy, PolicyType: 'Custom' });
      equal(e.users.user.map((x) => x.userName), [user], 'entities');
      await expectError(() => c.call('ram', 'DeletePolicy', { PolicyName: policy }), 'DeleteConflict.Policy.User', 409);
      await c.call('ram', 'DetachPolicyFromUser', { PolicyName: policy, PolicyType: 'Custom', UserName: user });
      await expectError(() => c.call('ram', 'DeletePolicy', { PolicyName: policy }), 'DeleteConflict.Policy.Version', 409);
      await c.call('ram', 'DeletePolicyVersion', { PolicyName: policy, VersionId: 'v1' });
      await c.call('ram', 'DeletePolicy', { PolicyName: policy });
    });
    await check(t('ram CreateRole; sts AssumeRole; the STS credentials sign'), async () => {
      const trust = JSON.stringify({
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { RAM: [`acs:ram::${account}:root`] } }],
      });
      const r = await c.call('ram', 'CreateRole', { RoleName: role, AssumeRolePolicyDocument: trust });
      await c.call('ram', 'AttachPolicyToUser', { PolicyName: 'AliyunSTSAssumeRoleAccess', PolicyType: 'System', UserName: user });
      const k = (await c.call('ram', 'CreateAccessKey', { UserName: user })).accessKey;
      const u = new Clients(emu.host, style, k.accessKeyId, k.accessKeySecret);
      const a = await u.call('sts', 'AssumeRole', { RoleArn: r.role.arn, RoleSessionName: 'ts', DurationSeconds: 900 });
      const cr = a.credentials;
      const s = new Clients(emu.host, style, cr.accessKeyId, cr.accessKeySecret, cr.securityToken);
      const id = await s.call('sts', 'GetCallerIdentity');
      equal([id.identityType, id.arn], ['AssumedRoleUser', `acs:ram::${account}:assumed-role/${role}/ts`], 'identity');
      await c.call('ram', 'DetachPolicyFromUser', { PolicyName: 'AliyunSTSAssumeRoleAccess', PolicyType: 'System', UserName: user });
      await c.call('ram', 'DeleteAccessKey', { UserName: user, UserAccessKeyId: k.accessKeyId });
      await c.call('ram', 'DeleteRole', { RoleName: role });
    });
    await check(t('rm DeleteServiceLinkedRole: one that goes, one still in use'), async () => {
      for (const [name, outcome] of [['AliyunServiceRoleForECS', 'SUCCEEDED'], ['AliyunServiceRoleForLog', 'FAILED']]) {
        const task = (await c.call('rm', 'DeleteServiceLinkedRole', { RoleName: name })).deletionTaskId;
        let s;
        for (let i = 0; i < 10; i++) {
          s = await c.call('rm', 'GetServiceLinkedRoleDeletionStatus', { DeletionTaskId: task });
          if (s.status !== 'IN_PROGRESS') break;
        }
        equal(s.status, outcome, `${name} deletion`);
        if (outcome === 'FAILED') {
          equal(s.reason.roleUsages.roleUsage.map((x) => x.region).sort(), ['ap-southeast-1', 'cn-hangzhou'], 'RoleUsages');
        }
      }
    });
    await check(t('ims SAML providers, default domain, MFA devices, recycle bin'), async () => {
      const saml = await c.call('ims', 'ListSAMLProviders');
      equal(saml.SAMLProviders.SAMLProvider.map((p) => p.SAMLProviderName), ['corp-idp'], 'ListSAMLProviders');
      equal((await c.call('ims', 'GetDefaultDomain')).defaultDomainName, domain, 'DefaultDomainName');
      await c.call('ims', 'SetDefaultDomain', { DefaultDomainName: `ts-${style}.onaliyun.com` });
      equal((await c.call('ims', 'GetDefaultDomain')).defaultDomainName, `ts-${style}.onaliyun.com`, 'after the change');
      await c.call('ims', 'SetDefaultDomain', { DefaultDomainName: domain });
      const mfa = await c.call('ims', 'ListVirtualMFADevices');
      expect(mfa.virtualMFADevices.virtualMFADevice.length === 2, 'two MFA devices');
      const bin = await c.call('ims', 'ListUsersInRecycleBin');
      equal(bin.users.user.map((x) => x.userId), ['250000000000009'], 'ListUsersInRecycleBin');
    });
    await check(t('every read the emulator answers fits the SDK models'), async () => {
      const upn = `alice@${domain}`;
      const reads = [
        ['ram', 'ListAccessKeys', { UserName: 'alice' }],
        ['ram', 'GetAccessKeyLastUsed', { UserName: 'alice', UserAccessKeyId: 'LTAI5tAlice000000000002' }],
        ['ram', 'GetLoginProfile', { UserName: 'bob' }],
        ['ram', 'GetUserMFAInfo', { UserName: 'alice' }],
        ['ram', 'ListVirtualMFADevices', {}],
        ['ram', 'GetGroup', { GroupName: 'platform' }],
        ['ram', 'ListGroups', {}],
        ['ram', 'ListUsersForGroup', { GroupName: 'platform' }],
        ['ram', 'ListPoliciesForGroup', { GroupName: 'platform' }],
        ['ram', 'GetRole', { RoleName: 'deployer' }],
        ['ram', 'ListRoles', {}],
        ['ram', 'ListPoliciesForRole', { RoleName: 'deployer' }],
        ['ram', 'ListPoliciesForUser', { UserName: 'alice' }],
        ['ram', 'ListPolicies', { MaxItems: 1000 }],
        ['ram', 'GetPolicy', { PolicyName: 'ReadOnlyAccess', PolicyType: 'System' }],
        ['ram', 'GetPolicyVersion', { PolicyName: 'ecs-read-hangzhou', PolicyType: 'Custom', VersionId: 'v3' }],
        ['ram', 'ListEntitiesForPolicy', { PolicyName: 'oss-logs-write', PolicyType: 'Custom' }],
        ['ram', 'GetAccountAlias', {}],
        ['ram', 'ListTagResources', { ResourceType: 'role', ResourceNames: ['deployer'] }],
        ['ims', 'GetUser', { UserPrincipalName: upn }],
        ['ims', 'ListUsers', {}],
        ['ims', 'ListUserBasicInfos', {}],
        ['ims', 'GetSAMLProvider', { SAMLProviderName: 'corp-idp' }],
        ['ims', 'ListOIDCProviders', {}],
        ['ims', 'GetOIDCProvider', { OIDCProviderName: 'github-actions' }],
        ['ims', 'ListApplications', {}],
        ['ims', 'GetAccountSummary', {}],
        ['ims', 'GetAccountMFAInfo', {}],
        ['ims', 'GetUserMFAInfo', { UserPrincipalName: upn }],
        ['ims', 'ListAccessKeys', { UserPrincipalName: upn }],
        ['ims', 'ListGroups', {}],
        ['ims', 'GetUserInRecycleBin', { UserId: '250000000000009' }],
        ['ims', 'ListAccessKeysInRecycleBin', { UserId: '250000000000009' }],
        ['ims', 'GetAccessKeyInfoInRecycleBin', { UserAccessKeyId: 'LTAI5tIntern00000000001' }],
        ['ims', 'ListTagResources', { ResourceType: 'user', ResourcePrincipalName: [upn] }],
        ['ims', 'GetPasswordPolicy', {}],
        ['ims', 'GetSecurityPreference', {}],
      ];
      const problems = [];
      for (const [service, action, params] of reads) {
        try {
          await c.call(service, action, params);
        } catch (e) {
          problems.push(`${service} ${action}: ${e.message}`);
        }
      }
      expect(problems.length === 0, problems.join('\n'));
    });
    await check(t('ims password policy, security preferences, console logon switch'), async () => {
      const seeded = await c.call('ims', 'GetPasswordPolicy');
      equal(seeded.passwordPolicy.minimumPasswordLength, 12, 'the demo account\'s MinimumPasswordLength');
      equal(seeded.passwordPolicy.maxLoginAttemps, 5, 'MaxLoginAttemps');
      const set = await c.call('ims', 'SetPasswordPolicy', { MinimumPasswordLength: 20, RequireNumbers: true });
      equal(set.passwordPolicy.minimumPasswordLength, 20, 'SetPasswordPolicy answers the new policy');
      equal((await c.call('ims', 'GetPasswordPolicy')).passwordPolicy.requireSymbols, false, 'left out: default');
      await expectError(
        () => c.call('ims', 'SetPasswordPolicy', { MaxLoginAttemps: 33 }),
        'InvalidParameter.MaxLoginAttemps.Range',
        400,
      );
      const pref = await c.call('ims', 'SetSecurityPreference', {
        LoginSessionDuration: 3,
        MFAOperationForLogin: 'mandatory',
        VerificationTypes: ['sms'],
      });
      equal(pref.securityPreference.loginProfilePreference.MFAOperationForLogin, 'mandatory', 'MFAOperationForLogin');
      const got = await c.call('ims', 'GetSecurityPreference');
      equal(got.securityPreference.loginProfilePreference.loginSessionDuration, 3, 'LoginSessionDuration');
      equal(got.securityPreference.verificationPreference.verificationTypes, ['sms'], 'VerificationTypes');
      const upn = `ts-${style}-console@${domain}`;
      await c.call('ims', 'CreateUser', { UserPrincipalName: upn, DisplayName: 'Console' });
      await c.call('ims', 'CreateLoginProfile', { UserPrincipalName: upn, Password: 'Ts-Passw0rd!long-enough', Status: 'Inactive' });
      equal((await c.call('ims', 'GetLoginProfile', { UserPrincipalName: upn })).loginProfile.status, 'Inactive', 'Status');
      const on = await c.call('ims', 'UpdateLoginProfile', { UserPrincipalName: upn, Status: 'Active' });
      equal(on.loginProfile.status, 'Active', 'UpdateLoginProfile answers the new status');
      await c.call('ims', 'DeleteLoginProfile', { UserPrincipalName: upn });
      await c.call('ims', 'DeleteUser', { UserPrincipalName: upn });
    });
    await check(t('expected failures: EntityNotExist, EntityAlreadyExists, SignatureDoesNotMatch'), async () => {
      await expectError(() => c.call('ram', 'GetUser', { UserName: 'nobody' }), 'EntityNotExist.User', 404);
      await expectError(() => c.call('ram', 'CreateUser', { UserName: 'alice' }), 'EntityAlreadyExists.User', 409);
      const bad = new Clients(emu.host, style, root.id, `${root.secret}x`);
      await expectError(() => bad.ram.listUsers(new Ram.ListUsersRequest({})), 'SignatureDoesNotMatch', 400);
    });
    await check(t('cleanup: RemoveUserFromGroup, DeleteGroup, DeleteUser'), async () => {
      await c.call('ram', 'RemoveUserFromGroup', { GroupName: group, UserName: user });
      await c.call('ram', 'DeleteGroup', { GroupName: group });
      await c.call('ram', 'DeleteUser', { UserName: user });
      await expectError(() => c.call('ram', 'GetUser', { UserName: user }), 'EntityNotExist.User', 404);
    });
  } finally {
    emu.stop();
  }
}

async function main() {
  const args = process.argv.slice(2);
  const arg = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const repo = path.resolve(__dirname, '..', '..');
  const binary = arg('--ramstate', path.join(repo, 'target', 'debug', 'ramstate'));
  const seed = arg('--seed', path.join(repo, 'examples', 'demo-account.yaml'));
  const seedText = fs.readFileSync(seed, 'utf8');
  for (const style of ['v3', 'v2', 'sm3']) {
    await scenario(style, binary, seed, seedText);
  }
  console.log(`${passed.length} passed, ${failed.length} failed`);
  process.exit(failed.length ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL the run: ${e.stack}`);
  console.log(`${passed.length} passed, ${failed.length + 1} failed`);
  process.exit(1);
});
