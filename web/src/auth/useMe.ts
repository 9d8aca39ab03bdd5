/** The signed-in user, shared by every component through the query cache. */
import { useQuery } from "@tanstack/react-query";
import { api, queryKeys } from "../app/api.js";

export function useMe() {
  return useQuery({ queryKey: queryKeys.me, queryFn: () => api.me(), staleTime: 60_000 });
}
