import { Type, type Static, type TObject } from '@sinclair/typebox'
import { loadConfig, BaseEnv, MysqlEnv, KafkaEnv, HttpEnv, AdminEnv, AuthEnv, PaymentEnv, ConfigError } from '@flash/common'

// Every variable the payment-service reads (names and defaults as in .env.example). A bad value stops
// the process at start with a message naming the variable.
export const PaymentServiceEnv = {
  ...BaseEnv,
  ...MysqlEnv,
  ...KafkaEnv,
  ...HttpEnv('PAYMENT', 3004),
  ...AdminEnv,
  ...AuthEnv,
  PAYMENT_CURRENCY: PaymentEnv.PAYMENT_CURRENCY,
  /** the provider's secret API key: a test key (sk_test_…) against stripe-mock or Stripe's test mode, a live one takes real money */
  STRIPE_SECRET_KEY: Type.String({ pattern: '^(sk|rk)_(test|live)_[A-Za-z0-9_]+$', default: 'sk_test_localonlyflashsale' }),
  /** the signing secret of the webhook endpoint (whsec_…): events that do not verify with it are refused */
  STRIPE_WEBHOOK_SECRET: Type.String({ pattern: '^whsec_[A-Za-z0-9_+/=]+$', default: 'whsec_local_only_flash_sale' }),
  /** where the API is (stripe-mock: http://127.0.0.1:12111); empty: Stripe itself */
  STRIPE_API_URL: Type.String({ pattern: '^(https?://[^\\s/]+/?)?$', default: '' }),
  /** oldest webhook signature timestamp accepted (s): an older delivery is a replay and is refused */
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 300 }),
  /** 1: the shop offers test cards and this service emits the provider's signed events itself; refused with a live key */
  PAYMENTS_SANDBOX: Type.Boolean({ default: false }),
  /** where the sandbox delivers its events (this service's own webhook route, directly or through nginx) */
  PAYMENTS_WEBHOOK_URL: Type.String({ pattern: '^https?://\\S+$', default: 'http://127.0.0.1:3004/payments/webhook' }),
  /** how often each instance publishes un-notified payments and refunds payments their orders could not take (ms) */
  PAYMENT_SETTLE_INTERVAL_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 250 })
}

export type PaymentServiceConfig = Static<TObject<typeof PaymentServiceEnv>>

export function loadPaymentConfig (env: NodeJS.ProcessEnv = process.env): PaymentServiceConfig {
  const config = loadConfig(PaymentServiceEnv, env)
  // Test cards with a live key would confirm real payments with fake events: never both.
  if (config.PAYMENTS_SANDBOX && /^(sk|rk)_live_/.test(config.STRIPE_SECRET_KEY)) {
    throw new ConfigError(['PAYMENTS_SANDBOX=1: refused with a live STRIPE_SECRET_KEY (sandbox events would confirm real payments)'])
  }
  return config
}
