import { AppError, ErrorCode } from '@flash/common'

export const productNotFound = (id: number): AppError =>
  new AppError(404, ErrorCode.PRODUCT_NOT_FOUND, `product ${id} not found`, { details: { productId: id } })

export const productArchived = (id: number): AppError =>
  new AppError(409, ErrorCode.PRODUCT_ARCHIVED, `product ${id} is archived: it cannot be changed or restocked`, { details: { productId: id } })
