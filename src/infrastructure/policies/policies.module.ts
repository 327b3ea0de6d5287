import { Module } from '@nestjs/common';
import { CreatePolicyHandler } from '../../application/policies/create-policy';
import { DeletePolicyHandler } from '../../application/policies/delete-policy';
import { GetPolicyHandler, ListPoliciesHandler } from '../../application/policies/policy-queries';
import { UpdatePolicyHandler } from '../../application/policies/update-policy';
import { POLICIES_READ_MODEL } from '../../application/ports/policies-read-model.port';
import { PoliciesController } from '../../http/policies/policies.controller';
import { MachinesModule } from '../machines/machines.module';
import { SqlitePoliciesReadModel } from './policies.read-model';

export { policiesProjection } from './policies.projection';
export { PolicyDenials } from './policy-denials';
export { PolicyExclusions } from './policy-exclusions';
export { PolicyReferences } from './policy-references';

/**
 * Machine policies (§8.6): create, update, delete, the `policies` read model. What other features ask
 * of policies (machine references, policy denials, search exclusions) is answered by the query-port
 * adapters exported above and provided among the query ports of `AppModule`.
 */
@Module({
  imports: [MachinesModule],
  controllers: [PoliciesController],
  providers: [
    { provide: POLICIES_READ_MODEL, useClass: SqlitePoliciesReadModel },
    CreatePolicyHandler,
    UpdatePolicyHandler,
    DeletePolicyHandler,
    ListPoliciesHandler,
    GetPolicyHandler,
  ],
  exports: [POLICIES_READ_MODEL],
})
export class PoliciesModule {}
