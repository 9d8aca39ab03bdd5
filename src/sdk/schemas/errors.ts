/**
 * The API's one error shape: `{message, detail?, validations?: [{field, detail}]}` (PRODUCT.md
 * section 4). The server answers every failure with it; clients parse it back.
 */
import { z } from "zod";

export const validationErrorSchema = z.object({ field: z.string(), detail: z.string() });
export const errorResponseSchema = z
  .object({
    message: z.string(),
    detail: z.string().optional(),
    validations: z.array(validationErrorSchema).optional(),
  })
  .meta({ id: "Error" });

export type ValidationError = z.infer<typeof validationErrorSchema>;
export type ErrorResponse = z.infer<typeof errorResponseSchema>;
