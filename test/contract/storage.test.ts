import { test } from "node:test";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { buildS3Client, createRawStorage, MemoryStorage, S3Storage } from "../../src/adapters/storage/index.js";
import { cephSkipReason, s3ConfigFor, startCephRgw } from "../helpers/ceph-rgw.js";
import { describeRawStorageContract } from "./storage-contract.js";

// The raw-storage contract over memory and over S3 on a real Ceph RGW (one RGW for this file).

describeRawStorageContract("memory", async () => {
  const storage = new MemoryStorage();
  return { storage, close: () => storage.close() };
});

const skip = cephSkipReason();
if (skip) {
  test("RawStorage contract: s3 on Ceph RGW", { skip }, () => {});
} else {
  describeRawStorageContract("s3 on Ceph RGW", async () => {
    const rgw = await startCephRgw();
    try {
      const config = s3ConfigFor(rgw, "contract-raw");
      const admin = buildS3Client(config);
      await admin.send(new CreateBucketCommand({ Bucket: config.S3_BUCKET }));
      admin.destroy();
      const storage = createRawStorage(config); // through the factory, as the server builds it
      if (!(storage instanceof S3Storage)) throw new Error("RAW_STORAGE_BACKEND=s3 did not build S3Storage");
      return {
        storage,
        reopen: async () => createRawStorage(config),
        close: async () => {
          await storage.close();
          await rgw.stop();
        },
      };
    } catch (e) {
      await rgw.stop();
      throw e;
    }
  });
}
