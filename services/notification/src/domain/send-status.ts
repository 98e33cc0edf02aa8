/**
 * The status of one send (`GET /notifications/:id`): its sender or an admin learns how many
 * inbox rows it stored, how many of them are read, and which named user ids matched no user.
 * Anyone else gets the same 404 as for an id that was never sent, so ids cannot be probed.
 */
import { z } from 'zod';
import type { SendStatus } from '@warren/shared/contracts/notification-api';
import { AppError } from '@warren/shared/errors';
import type { ReadSendStatus } from './ports.js';

export interface SendStatusDeps {
  status: ReadSendStatus;
}

export async function sendStatusFor(deps: SendStatusDeps, caller: { userId: string; role: string }, id: string): Promise<SendStatus> {
  // A path id that is not a UUID names no send: 404, like any other.
  if (!z.uuid().safeParse(id).success) throw notFound();
  const status = await deps.status(id, caller.role === 'admin' ? undefined : caller.userId);
  if (!status) throw notFound();
  return status;
}

function notFound(): AppError {
  return AppError.notFound('send_not_found', 'No such send.');
}
