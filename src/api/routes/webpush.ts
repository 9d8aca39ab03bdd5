/**
 * Web push routes (upstream's shapes): the deployment's VAPID public key, and a user's browser
 * subscriptions (subscribe, unsubscribe, send a test). A subscription is the user's own: `{user}`
 * (`me`, an id or a username) must be the caller. A user the caller may not read is 404, as for
 * every user route; one they may read (an admin, an owner looking at a member) is 403, owners
 * included: a subscription delivers that user's chat titles and summaries to whoever's browser
 * it is, so nobody may register one on another's behalf.
 *
 * Bodies are validated before anything is stored (encoding.ts): an https endpoint (http only on
 * loopback) and keys of the right decoded sizes. Unsubscribing an endpoint the user does not
 * have answers 404, so a client can tell a typo from success.
 */
import { z } from "zod";
import { authSecretSchema, p256dhKeySchema, pushEndpointSchema } from "../../webpush/encoding.js";
import { TEST_MESSAGE } from "../../webpush/dispatcher.js";
import { deleteUserSubscription, upsertSubscription } from "../../webpush/subscriptions.js";
import type { Queryable } from "../../db/client.js";
import { requireActor, type Actor } from "../context.js";
import { forbidden, HttpError, notFound } from "../errors.js";
import { none, type RouteRegistry } from "../route.js";
import type { ApiServices } from "../services.js";
import { findUserFor, userRefParams } from "./users.js";

export const subscribeRequestSchema = z.object({
  endpoint: pushEndpointSchema,
  auth_key: authSecretSchema,
  p256dh_key: p256dhKeySchema,
});

export const unsubscribeRequestSchema = z.object({ endpoint: z.string().min(1) });

export const vapidPublicKeyResponseSchema = z.object({ webpush_public_key: z.string() });

/** The `{user}` of a subscription route, when it is the caller (see the header). */
async function ownSubscriber(db: Queryable, actor: Actor, ref: string) {
  const target = await findUserFor(db, actor, ref, "read");
  if (target.id !== actor.user.id) throw forbidden("You can only manage your own push notification subscriptions.");
  return target;
}

export function registerWebPushRoutes(routes: RouteRegistry, services: ApiServices): void {
  const { db } = services.database;

  routes.add({
    method: "get",
    path: "/api/experimental/webpush/vapid-public-key",
    summary: "The deployment's VAPID public key, for PushManager.subscribe's applicationServerKey",
    tags: ["Notifications"],
    auth: "user",
    params: none,
    query: none,
    body: none,
    status: 200,
    response: vapidPublicKeyResponseSchema,
    handler: async () => ({ webpush_public_key: services.webpush.publicKey }),
  });

  routes.add({
    method: "post",
    path: "/api/v2/users/:user/webpush/subscription",
    summary: "Subscribe a browser to the user's push notifications (again: its keys are replaced)",
    tags: ["Notifications"],
    auth: "user",
    params: userRefParams,
    query: none,
    body: subscribeRequestSchema,
    status: 204,
    handler: async ({ c, params, body }) => {
      const target = await ownSubscriber(db, requireActor(c), params.user);
      await upsertSubscription(db, target.id, { endpoint: body.endpoint, authKey: body.auth_key, p256dhKey: body.p256dh_key });
    },
  });

  routes.add({
    method: "delete",
    path: "/api/v2/users/:user/webpush/subscription",
    summary: "Unsubscribe a browser (404 when the user has no subscription at that endpoint)",
    tags: ["Notifications"],
    auth: "user",
    params: userRefParams,
    query: none,
    body: unsubscribeRequestSchema,
    status: 204,
    handler: async ({ c, params, body }) => {
      const target = await ownSubscriber(db, requireActor(c), params.user);
      if (!(await deleteUserSubscription(db, target.id, body.endpoint))) throw notFound("Push notification subscription not found.");
    },
  });

  routes.add({
    method: "post",
    path: "/api/v2/users/:user/webpush/test",
    summary: "Send a test notification to every browser the user subscribed (502 when one could not be reached)",
    tags: ["Notifications"],
    auth: "user",
    params: userRefParams,
    query: none,
    body: none,
    status: 204,
    handler: async ({ c, params }) => {
      const target = await ownSubscriber(db, requireActor(c), params.user);
      const report = await services.webpush.sendToUser(target.id, TEST_MESSAGE);
      if (report.failed > 0) {
        throw new HttpError(502, "Failed to send the test notification.", `${report.failed} of ${report.delivered + report.failed} subscriptions could not be reached.`);
      }
    },
  });
}
