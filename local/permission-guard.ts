/**
 * IAM, locally: DynamoDB Local accepts every call, AWS refuses what a
 * function's role does not grant. This guard makes the local runtime (and the
 * tests that run handlers through it) refuse the same calls, with the error
 * AWS gives, from the same permission definition the CDK stack grants
 * (functions/store/permissions.ts).
 *
 * Which function is calling is carried by AsyncLocalStorage: the handlers share
 * one process and one SDK client locally, unlike in Lambda.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import {
  type FunctionName,
  functionPermissions,
  type Grant,
  isAllowed,
  type RequestedAccess,
} from '../functions/store/permissions.js';

interface Caller {
  readonly name: FunctionName;
  readonly grants: readonly Grant[];
}

const callingFunction = new AsyncLocalStorage<Caller>();

/**
 * Runs `work` as function `name`: every guarded SDK call it makes is checked
 * against `grants`, by default the function's definition (a test may pass
 * fewer, to show a missing grant fails).
 */
export function runAs<T>(name: FunctionName, work: () => T, grants = functionPermissions[name]): T {
  return callingFunction.run({ name, grants }, work);
}

/** A handler's plain call signature, without middy's extras. */
export type Callable<F extends (...args: never[]) => unknown> = (...args: Parameters<F>) => ReturnType<F>;

/** Wraps a handler so that each invocation runs as `name`. */
export function asFunction<A extends unknown[], R>(
  name: FunctionName,
  handler: (...args: A) => R,
  grants = functionPermissions[name],
): (...args: A) => R {
  return (...args) => runAs(name, () => handler(...args), grants);
}

/** The error DynamoDB answers when the caller's role lacks a grant (HTTP 400, a client fault). */
class AccessDeniedError extends DynamoDBServiceException {
  constructor(caller: FunctionName, access: RequestedAccess, region: string) {
    const resource = `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT}:table/${access.table}${
      access.index ? `/index/${access.index}` : ''
    }`;
    super({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      // The wording of IAM's implicit deny, see
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
      message: `User: arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${caller}-role/${caller} is not authorized to perform: ${access.action} on resource: ${resource} because no identity-based policy allows the ${access.action} action`,
    });
  }
}

const LOCAL_ACCOUNT = '000000000000';

/** What one DynamoDB call asks for, per table; batch calls name several tables. */
function requestedAccess(commandName: string, input: Record<string, unknown>): RequestedAccess[] {
  const action = `dynamodb:${commandName.replace(/Command$/, '')}`;
  if (typeof input.TableName === 'string') {
    return [
      {
        action,
        table: input.TableName,
        ...(typeof input.IndexName === 'string' ? { index: input.IndexName } : {}),
      },
    ];
  }
  const requestItems = input.RequestItems;
  if (requestItems && typeof requestItems === 'object') {
    return Object.keys(requestItems).map((table) => ({ action, table }));
  }
  // No handler makes other calls; an unknown shape is checked against no table, so it is refused.
  return [{ action, table: '*' }];
}

/**
 * Installs the check on a DynamoDB client (once; installing again replaces it).
 * Calls made outside any function (table set-up, test fixtures) pass: only
 * handlers have roles.
 */
export function installPermissionGuard(
  client: Pick<DynamoDBClient, 'middlewareStack'>,
  region: string,
): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const caller = callingFunction.getStore();
      if (caller !== undefined) {
        const input = args.input as unknown as Record<string, unknown>;
        for (const access of requestedAccess(context.commandName ?? 'Unknown', input)) {
          if (!isAllowed(caller.grants, access)) throw new AccessDeniedError(caller.name, access, region);
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'localPermissionGuard', override: true },
  );
}

/** The function's grants with one action taken away: how a test shows that the action is needed. */
export function withoutGrant(name: FunctionName, action: string): readonly Grant[] {
  return functionPermissions[name].map((grant) =>
    'table' in grant ? { ...grant, actions: grant.actions.filter((granted) => granted !== action) } : grant,
  );
}
