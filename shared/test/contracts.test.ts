import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { notificationRequestedSchema, type NotificationRequestedInput } from '@warren/shared/contracts/notifications';

function validMessage(overrides: Partial<NotificationRequestedInput> = {}): NotificationRequestedInput {
  return {
    notificationId: randomUUID(),
    title: 'Quarterly review',
    body: 'Please fill in the form by Friday.',
    recipients: { roles: ['employee'], userIds: [randomUUID()] },
    requestedBy: { userId: randomUUID() },
    requestedAt: new Date().toISOString(),
    ...overrides,
  };
}

describe('notificationRequestedSchema', () => {
  it('When the message is valid, then it is accepted', () => {
    // Arrange
    const message = validMessage({ type: 'hr.review', data: { link: '/forms/1' } });

    // Act
    const result = notificationRequestedSchema.safeParse(message);

    // Assert
    assert.equal(result.success, true);
    assert.equal(result.data?.type, 'hr.review');
    assert.deepEqual(result.data?.data, { link: '/forms/1' });
  });

  it('When recipients are missing, then it is rejected on the recipients path', () => {
    // Arrange
    const { recipients: _omitted, ...message } = validMessage();

    // Act
    const result = notificationRequestedSchema.safeParse(message);

    // Assert
    assert.equal(result.success, false);
    assert.ok(result.error?.issues.some((i) => i.path[0] === 'recipients'));
  });

  it('When recipients is an empty object or has empty lists, then it is rejected', () => {
    // Act
    const empty = notificationRequestedSchema.safeParse(validMessage({ recipients: {} }));
    const emptyLists = notificationRequestedSchema.safeParse(validMessage({ recipients: { userIds: [], roles: [] } }));

    // Assert
    assert.equal(empty.success, false);
    assert.equal(emptyLists.success, false);
    assert.match(empty.error?.issues[0]?.message ?? '', /at least one/);
  });

  it('When recipients carry an unknown key or role, then it is rejected', () => {
    // Act
    const unknownKey = notificationRequestedSchema.safeParse(
      validMessage({ recipients: { roles: ['admin'], everyone: true } as never }),
    );
    const unknownRole = notificationRequestedSchema.safeParse(validMessage({ recipients: { roles: ['root' as never] } }));

    // Assert
    assert.equal(unknownKey.success, false);
    assert.equal(unknownRole.success, false);
  });

  it('When data serialises to more than 8 KiB, then it is rejected', () => {
    // Arrange
    const message = validMessage({ data: { blob: 'x'.repeat(9000) } });

    // Act
    const result = notificationRequestedSchema.safeParse(message);

    // Assert
    assert.equal(result.success, false);
    assert.ok(result.error?.issues.some((i) => i.path[0] === 'data'));
  });

  it('When type and data are omitted, then type defaults to "general" and data to {}', () => {
    // Arrange
    const message = validMessage();

    // Act
    const parsed = notificationRequestedSchema.parse(message);

    // Assert
    assert.equal(parsed.type, 'general');
    assert.deepEqual(parsed.data, {});
  });

  it('When the title is blank or the type is not a slug, then it is rejected', () => {
    // Act
    const blankTitle = notificationRequestedSchema.safeParse(validMessage({ title: '   ' }));
    const badType = notificationRequestedSchema.safeParse(validMessage({ type: 'Has Spaces' }));

    // Assert
    assert.equal(blankTitle.success, false);
    assert.equal(badType.success, false);
  });
});
