import { OrderPaymentSettings } from '../../domain/order/market-order-types';
import { AppConfig } from '../../config/app-config';

/** The payment configuration the order decider decides with (§2.2). */
export function orderPaymentSettings(config: AppConfig): OrderPaymentSettings {
  return {
    chainId: config.chainId,
    usdtContract: config.usdtContract,
    usdtDecimals: config.usdtDecimals,
    enforceServicePaymentRails: config.enforceServicePaymentRails,
    requirePaymentRpcVerification: config.requirePaymentRpcVerification,
    requirePaymentBeforeExecute: config.requirePaymentBeforeExecute,
  };
}
