import { Skeleton, Text } from "@medusajs/ui"

/** A section's placeholder while its query loads, or the error it ended with. */
export const QueryState = ({
  query,
  height,
}: {
  query: { isLoading: boolean; error: unknown }
  height: string
}) => {
  if (query.isLoading) {
    return <Skeleton className={`${height} w-full`} />
  }
  if (query.error) {
    return (
      <Text size="small" className="text-ui-fg-error" role="alert">
        {(query.error as Error).message}
      </Text>
    )
  }
  return null
}
