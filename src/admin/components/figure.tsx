import { Text } from "@medusajs/ui"
import { ReactNode } from "react"

/** One labelled figure of a card, in the layout of Medusa's detail sections. */
export const Figure = ({
  label,
  children,
  hint,
}: {
  label: string
  children: ReactNode
  hint?: string
}) => (
  <div className="flex flex-col gap-y-0.5">
    <Text size="small" leading="compact" className="text-ui-fg-subtle">
      {label}
    </Text>
    <Text size="small" leading="compact" weight="plus">
      {children}
    </Text>
    {hint && (
      <Text size="xsmall" leading="compact" className="text-ui-fg-subtle">
        {hint}
      </Text>
    )}
  </div>
)
