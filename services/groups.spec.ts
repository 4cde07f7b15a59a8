import { expect } from 'chai';
import { ALL_GROUPS, SERVICE_GROUPS } from './index';
import type { ServiceDefinition } from '../lib/runtime';
import { GROUP_NAMES, loadGroups, parseGroups } from './groups';

// Under mocha the specs are required (CommonJS) while loadGroups imports (ESM): the same module, two instances. So
// definitions are compared by what they are (name, variables), not by identity.
const shape = (services: ServiceDefinition[]) => services.map((s) => [s.name, Object.keys(s.config.variables)]);

describe('service groups, loaded lazily', () => {
  it('loads for each group exactly the services services/index.ts names for it', async () => {
    expect(GROUP_NAMES).to.deep.equal(Object.keys(SERVICE_GROUPS));
    for (const group of GROUP_NAMES)
      expect(shape(await loadGroups([group])), group).to.deep.equal(shape(SERVICE_GROUPS[group]));
    const all = await loadGroups(parseGroups(''));
    expect(all.map((s) => s.name)).to.deep.equal(
      [...new Set(ALL_GROUPS.flatMap((g) => SERVICE_GROUPS[g]))].map((s) => s.name),
    );
    expect(await loadGroups(['users', 'bot-gateway'])).to.have.length(2);
  });

  it('refuses unknown group names, naming the known ones', () => {
    expect(() => parseGroups('broadcaster, nope')).to.throw(/unknown service\(s\) nope; known: users, bot-gateway/);
    expect(parseGroups(' broadcaster ,')).to.deep.equal(['broadcaster']);
  });
});
