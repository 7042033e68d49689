import assert from "node:assert/strict";
import { test } from "node:test";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { isPreconditionFailure, translateS3Error } from "../../../../src/adapters/storage/s3-errors.js";
import { AppError } from "../../../../src/errors/index.js";

const sdkError = (name: string, status: number): S3ServiceException =>
  new S3ServiceException({ name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status }, message: name });

const netError = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });

test("connection failures, timeouts and 5xx become ERR_NOT_READY (503) with Retry-After, keeping the cause", () => {
  const cases: unknown[] = [
    netError("ECONNREFUSED"),
    netError("ECONNRESET"),
    Object.assign(new Error("wrapped"), { cause: netError("EPIPE") }),
    Object.assign(new Error("socket timed out"), { name: "TimeoutError" }),
    sdkError("InternalError", 500),
    sdkError("ServiceUnavailable", 503),
    sdkError("SlowDown", 503),
  ];
  for (const e of cases) {
    const err = translateS3Error(e, "op");
    assert.equal(err.key, "ERR_NOT_READY", String(e));
    assert.equal(err.status, 503);
    assert.ok((err.retryAfterS ?? 0) > 0);
    assert.equal(err.cause, e);
  }
});

test("wrong credentials or a missing bucket are not_ready with a long Retry-After; other client errors are internal", () => {
  for (const [name, status] of [["InvalidAccessKeyId", 403], ["SignatureDoesNotMatch", 403], ["NoSuchBucket", 404]] as const) {
    const err = translateS3Error(sdkError(name, status), "op");
    assert.equal(err.key, "ERR_NOT_READY", name);
    assert.equal(err.retryAfterS, 30);
  }
  const other = translateS3Error(sdkError("InvalidArgument", 400), "op");
  assert.equal(other.key, "ERR_INTERNAL");
  assert.ok(other.cause instanceof S3ServiceException, "the SDK error stays as cause");
  const mine = new AppError("ERR_CONFLICT");
  assert.equal(translateS3Error(mine, "op"), mine, "an AppError passes through unchanged");
});

test("only 412, or 409 ConditionalRequestConflict, means a create-only write lost", () => {
  assert.ok(isPreconditionFailure(sdkError("PreconditionFailed", 412)));
  assert.ok(isPreconditionFailure(sdkError("ConditionalRequestConflict", 409)));
  assert.ok(!isPreconditionFailure(sdkError("BucketAlreadyExists", 409)));
  assert.ok(!isPreconditionFailure(netError("ECONNREFUSED")));
});
